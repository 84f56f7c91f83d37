import { describe, expect, it } from '@jest/globals';
import { Coalescer } from './coalescer.js';

function gatedTask() {
  const runs: { release: () => void }[] = [];
  const coalescer = new Coalescer(() => new Promise<number>((resolve) => {
    const n = runs.length + 1;
    runs.push({ release: () => resolve(n) });
  }));
  return { coalescer, runs };
}

describe('Coalescer', () => {
  it('starts a lone call at once, without any delay', () => {
    const { coalescer, runs } = gatedTask();
    void coalescer.run();
    expect(runs).toHaveLength(1);
  });

  it('folds a burst during a run into one more run, which answers every call of the burst', async () => {
    const { coalescer, runs } = gatedTask();
    const first = coalescer.run();
    const burst = Array.from({ length: 100 }, () => coalescer.run());
    expect(runs).toHaveLength(1);
    runs[0]!.release();
    expect(await first).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toHaveLength(2);
    runs[1]!.release();
    expect(new Set(await Promise.all(burst))).toEqual(new Set([2]));
    await coalescer.idle();
    void coalescer.run();
    expect(runs).toHaveLength(3);
  });

  it('runs again after a failed run', async () => {
    let calls = 0;
    const coalescer = new Coalescer(async () => {
      calls += 1;
      if (calls === 1) throw new Error('disk full');
      return calls;
    });
    const failing = coalescer.run();
    const after = coalescer.run();
    await expect(failing).rejects.toThrow('disk full');
    expect(await after).toBe(2);
  });
});

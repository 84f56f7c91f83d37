import autocannon from 'autocannon';
import { quick, size } from './sizes.js';

export interface TimedRun {
  /** ms of each task, in the order they were started. */
  latencies: number[];
  seconds: number;
  /** Tasks per second over the whole run. */
  rate: number;
}

/** Runs `task(0)` … `task(count - 1)`, at most `concurrency` at a time, timing each and the whole. */
export async function timedConcurrently(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<TimedRun> {
  const latencies = new Array<number>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const start = performance.now();
      await task(index);
      latencies[index] = performance.now() - start;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { latencies, seconds, rate: count / seconds };
}

/** How hard and how long autocannon runs (the same for every HTTP bench). */
export const httpLoad = { duration: size('DURATION', 10, 2), connections: size('CONNECTIONS', 50, 10), warmUpSeconds: quick ? 1 : 3 };

/** autocannon with these options, first for a warm-up, then for the run it returns. */
export async function warmedUpLoad(options: Omit<autocannon.Options, 'connections' | 'duration'>): Promise<autocannon.Result> {
  const run = (duration: number) => autocannon({ pipelining: 1, ...options, connections: httpLoad.connections, duration });
  await run(httpLoad.warmUpSeconds);
  return run(httpLoad.duration);
}

export function loadLine(name: string, result: autocannon.Result): string {
  const statuses = Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => `${status}×${count}`).join(' ');
  return `${name.padEnd(10)} ${result.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(result.latency.p50).padStart(4)} ms   `
    + `p99 ${String(result.latency.p99).padStart(4)} ms   max ${result.latency.max} ms   errors ${result.errors}   statuses ${statuses}`;
}

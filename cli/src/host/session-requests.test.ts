import { describe, expect, it } from '@jest/globals';
import { SessionRequests } from './session-requests.js';

/** A request the test answers when it likes, recording when it was sent and answered. */
function heldRequest(log: string[], name: string) {
  let answer = () => {};
  const answered = new Promise<void>((resolve) => { answer = resolve; });
  return {
    send: async () => {
      log.push(`${name} sent`);
      await answered;
      log.push(`${name} answered`);
      return name;
    },
    answer,
  };
}

describe('the session\'s requests', () => {
  it('go one at a time, in the order asked, a failure holding up none after it', async () => {
    const requests = new SessionRequests();
    const log: string[] = [];
    const move = heldRequest(log, 'move');
    const moved = requests.run(move.send);
    const ended = requests.run(async () => { log.push('end sent'); return 'end'; });
    const failed = requests.run(async () => { throw new Error('refused'); });
    const after = requests.run(async () => 'after');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(['move sent']);
    move.answer();
    expect(await moved).toBe('move');
    expect(await ended).toBe('end');
    await expect(failed).rejects.toThrow('refused');
    expect(await after).toBe('after');
    expect(log).toEqual(['move sent', 'move answered', 'end sent']);
  });

  it('leave a heartbeat out while another request is in flight or waiting, and send the next one once all have settled', async () => {
    const requests = new SessionRequests();
    const log: string[] = [];
    const move = heldRequest(log, 'move');
    const moved = requests.run(move.send);
    expect(requests.runIfIdle(async () => log.push('heartbeat'))).toBeUndefined();
    move.answer();
    await moved;
    await requests.runIfIdle(async () => log.push('heartbeat'));
    expect(log).toEqual(['move sent', 'move answered', 'heartbeat']);
  });
});

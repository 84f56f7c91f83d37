import { describe, expect, it } from '@jest/globals';
import { ApiError, type PairingSession } from './api-client.js';
import { joinFollowingMoves, type FollowMovesOptions } from './follow-moves.js';

const at = (boxId: string, tunnelHost: string, port: number): PairingSession => ({
  id: 's1', role: 'guest', host: { username: 'hana' }, port, tunnelHost, tunnelPort: 22, boxId, tunnelHostKey: `key of ${boxId}`,
  guests: [{ username: 'alice', access: 'rw' }], private: false, joinCommand: `ssh -p ${port} tmuxme@${tunnelHost}`,
  jumpJoinCommand: `ssh -J join@${tunnelHost} -p ${port} tmuxme@127.0.0.1`, hostKey: 'ssh-ed25519 AAAA-host', hostKeyFingerprint: 'SHA256:host',
  createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T01:00:00.000Z',
});
const boxA = at('box-1', 'box-a', 20001);
const boxB = at('box-2', 'box-b', 20002);
const boxC = at('box-3', 'box-c', 20003);

/**
 * ssh and the server, as the test scripts them: each join ends with the next of `statuses`, and each read of the
 * session gives the next of `reads` (the last one repeats). What was joined, read and said is recorded.
 */
function script(statuses: number[], reads: (PairingSession | Error)[]) {
  const joined: PairingSession[] = [];
  const said: string[] = [];
  let fetched = 0;
  const options: FollowMovesOptions = {
    runJoin: async (session) => { joined.push(session); return statuses[joined.length - 1]!; },
    async fetchSession() {
      const read = reads[Math.min(fetched, reads.length - 1)]!;
      fetched += 1;
      if (read instanceof Error) throw read;
      return read;
    },
    say: (line) => said.push(line),
    waitForMoveMs: 200,
    pollEveryMs: 10,
  };
  return { options, joined, said, fetched: () => fetched };
}

describe('joining a session that moves', () => {
  it('after ssh lost its connection, waits for the session to show up on another box and joins it there, as often as it moves', async () => {
    const { options, joined, said } = script([255, 255, 0], [boxA, boxA, boxB, boxB, boxC]);
    expect(await joinFollowingMoves(boxA, options)).toBe(0);
    expect(joined).toEqual([boxA, boxB, boxC]);
    expect(said).toEqual([
      'ssh ended with status 255; checking for up to 0.2 s whether the host moves the session to another box (Ctrl-C stops)…',
      'The session moved to box-b port 20002; joining again…',
      'ssh ended with status 255; checking for up to 0.2 s whether the host moves the session to another box (Ctrl-C stops)…',
      'The session moved to box-c port 20003; joining again…',
    ]);
  });

  it.each([0, 1, 130])('ends at once with the status of an ssh the guest left (%i), reading nothing', async (status) => {
    const { options, joined, fetched } = script([status], [boxB]);
    expect(await joinFollowingMoves(boxA, options)).toBe(status);
    expect(joined).toEqual([boxA]);
    expect(fetched()).toBe(0);
  });

  it('ends at once with ssh\'s status when the session is gone', async () => {
    const { options, joined, fetched } = script([255], [new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.')]);
    expect(await joinFollowingMoves(boxA, options)).toBe(255);
    expect(joined).toEqual([boxA]);
    expect(fetched()).toBe(1);
  });

  it('ends with ssh\'s status when the session stays where it was for the whole wait', async () => {
    const { options, joined, fetched } = script([255], [boxA]);
    const started = Date.now();
    expect(await joinFollowingMoves(boxA, options)).toBe(255);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    expect(joined).toEqual([boxA]);
    expect(fetched()).toBeGreaterThan(5);
  });

  it('asks again when the server is out of reach for a moment', async () => {
    const { options, joined } = script([255, 0], [new ApiError(0, 'SERVER_UNREACHABLE', 'Cannot reach the tmux.me server'), boxB]);
    expect(await joinFollowingMoves(boxA, options)).toBe(0);
    expect(joined).toEqual([boxA, boxB]);
  });

  it('does not follow a move that came with another host key', async () => {
    const { options, joined, said } = script([255], [{ ...boxB, hostKey: 'ssh-ed25519 AAAA-someone-else', hostKeyFingerprint: 'SHA256:else' }]);
    expect(await joinFollowingMoves(boxA, options)).toBe(255);
    expect(joined).toEqual([boxA]);
    expect(said.at(-1)).toBe('The session moved to box-b port 20002, but with a host key other than the one you joined: not joining again. Tell the host.');
  });
});

import { describe, expect, it } from '@jest/globals';
import { eventually } from '../../test/eventually.js';
import { ApiError, type PairingSession, type PortLease } from '../lib/api-client.js';
import { TunnelFailed } from '../lib/reverse-tunnel.js';
import type { OpenTunnel } from './host-backend.js';
import { SessionRequests } from './session-requests.js';
import { recoverTunnel, type TunnelRecoveryOptions } from './tunnel-recovery.js';

const expiresAt = new Date(Date.now() + 60_000).toISOString();
/** The lease whose box stopped answering. */
const lost: PortLease = {
  port: 20001, tunnelHost: 'box-a', tunnelPort: 22, tunnelHostKey: 'ka', leaseId: 'l1', expiresAt, private: false, tunnelUser: 'tunnel', boxId: 'box-1',
};
const sessionOn = (lease: PortLease): PairingSession => ({
  id: 's1', role: 'host', host: { username: 'hana' }, port: lease.port, tunnelHost: lease.tunnelHost, tunnelPort: 22, boxId: lease.boxId,
  tunnelHostKey: lease.tunnelHostKey, guests: [{ username: 'alice', access: 'rw' }], private: false,
  joinCommand: `ssh -p ${lease.port} tmuxme@${lease.tunnelHost}`, jumpJoinCommand: `ssh -J join@${lease.tunnelHost} -p ${lease.port} tmuxme@127.0.0.1`,
  createdAt: expiresAt, expiresAt,
});

interface World {
  /** Whether a box answers this try (its tries counted from 1). */
  answers?: (host: string, attempt: number) => boolean;
  /** What the server says to the nth lease asked for (from 1): a refusal, or a lease on box-b. */
  leaseRefusal?: (n: number) => Error | undefined;
  /** What the server says to a move (default: done). */
  move?: (leaseId: string) => Promise<PairingSession>;
  /** Holds every tunnel opening on box-b until it settles. */
  holdOpen?: Promise<void>;
}

/**
 * The server and the boxes, in memory: every call is recorded, and what is open or held is tracked, so a test can
 * see that nothing a failed try took is left over. Box a is the lost one; box b takes new sessions.
 */
function world({ answers = (host) => host === 'box-b', leaseRefusal = () => undefined, move, holdOpen }: World = {}) {
  const calls: string[] = [];
  const notices: string[] = [];
  const openTunnels = new Set<string>();
  const heldLeases = new Set<string>();
  const tries = new Map<string, number>();
  let leased = 0;
  let current = sessionOn(lost);
  const stop = new AbortController();
  const options: TunnelRecoveryOptions = {
    sessionId: 's1',
    requests: new SessionRequests(),
    signal: stop.signal,
    notice: (message) => notices.push(message),
    sameBoxDelaysMs: [0, 10, 20],
    backOffMs: [10, 20, 50],
    giveUpAfterMs: 400,
    async leasePort(avoidBox) {
      leased += 1;
      calls.push(`lease avoiding ${avoidBox}`);
      const refusal = leaseRefusal(leased);
      if (refusal) throw refusal;
      const lease = { ...lost, port: 20001 + leased, tunnelHost: 'box-b', tunnelHostKey: 'kb', leaseId: `l${leased + 1}`, boxId: 'box-2' };
      heldLeases.add(lease.leaseId);
      return lease;
    },
    async openTunnel(lease): Promise<OpenTunnel> {
      const where = `${lease.tunnelHost}:${lease.port}`;
      const attempt = (tries.get(lease.tunnelHost) ?? 0) + 1;
      tries.set(lease.tunnelHost, attempt);
      calls.push(`open ${where}`);
      if (lease.tunnelHost === 'box-b') await holdOpen;
      if (!answers(lease.tunnelHost, attempt)) throw new TunnelFailed(`${where} did not answer`, '');
      openTunnels.add(where);
      return { dropped: new Promise(() => {}), close: async () => { calls.push(`close ${where}`); openTunnels.delete(where); } };
    },
    api: {
      async giveBackLease(leaseId) {
        calls.push(`give back ${leaseId}`);
        heldLeases.delete(leaseId);
      },
      async moveSession(id, leaseId) {
        calls.push(`move ${id} to ${leaseId}`);
        current = await (move?.(leaseId) ?? Promise.resolve(sessionOn({ ...lost, port: 20000 + Number(leaseId.slice(1)), tunnelHost: 'box-b', boxId: 'box-2' })));
        return current;
      },
      getSession: async () => current,
    },
  };
  return { calls, notices, openTunnels, heldLeases, stop, options, recover: () => recoverTunnel(lost, options) };
}

const noTunnelBox = () => new ApiError(503, 'NO_TUNNEL_BOX', 'no tunnel box is taking new sessions right now');

describe('bringing a dropped tunnel back', () => {
  it('reopens it on the same lease when its box answers again within the first tries, leasing nothing', async () => {
    const { calls, notices, recover } = world({ answers: (host, attempt) => host === 'box-a' && attempt === 2 });
    expect(await recover()).toMatchObject({ outcome: 'reopened' });
    expect(calls).toEqual(['open box-a:20001', 'open box-a:20001']);
    expect(notices).toEqual([]);
  });

  it('moves the session once its box stays quiet: a lease on another box, our tunnel there, then the move', async () => {
    const { calls, notices, openTunnels, heldLeases, recover } = world();
    const recovery = await recover();
    expect(recovery).toMatchObject({ outcome: 'moved', lease: { leaseId: 'l2', boxId: 'box-2', port: 20002 }, session: { port: 20002, tunnelHost: 'box-b' } });
    expect(calls).toEqual([...Array(3).fill('open box-a:20001'), 'lease avoiding box-1', 'open box-b:20002', 'move s1 to l2']);
    expect(notices).toEqual(['The tunnel box box-a stopped answering; moving the session to another box…']);
    // The new tunnel and lease are the session's now: nothing of them was taken back.
    expect([...openTunnels]).toEqual(['box-b:20002']);
    expect([...heldLeases]).toEqual(['l2']);
  });

  it('with no other box free at first, tries its own box and a move in turn until a move works', async () => {
    const { calls, notices, recover } = world({ leaseRefusal: (n) => (n === 1 ? noTunnelBox() : undefined) });
    expect(await recover()).toMatchObject({ outcome: 'moved', lease: { leaseId: 'l3' } });
    expect(calls.slice(3)).toEqual(['lease avoiding box-1', 'open box-a:20001', 'lease avoiding box-1', 'open box-b:20003', 'move s1 to l3']);
    expect(notices[1]).toBe('Could not move the session (no tunnel box is taking new sessions right now); trying again in 0.01 s.');
  });

  it.each([
    ['the new box refuses our tunnel', { answers: () => false }],
    ['the server refuses the move', { move: async () => { throw new ApiError(409, 'LEASE_IN_SESSION', 'That lease is in another session.'); } }],
  ] as [string, World][])('when %s, each try takes back what it opened, and after the time allowed the session is lost', async (_, how) => {
    const { calls, notices, openTunnels, heldLeases, recover } = world(how);
    const started = Date.now();
    expect(await recover()).toEqual({ outcome: 'lost', reason: 'the tunnel could not be reopened' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(calls.filter((call) => call.startsWith('lease')).length).toBeGreaterThanOrEqual(3);
    expect(openTunnels.size).toBe(0);
    // Every lease a try took was given back (the lost box's stays the session's, for the server to release).
    expect([...heldLeases]).toEqual([]);
    expect(notices.at(-1)).toMatch(/^Could not move the session \(.+\)\.$/);
  });

  it('stops when the session ends during a move: the new tunnel closed, its lease given back, and no move sent', async () => {
    let letOpen = () => {};
    const { calls, stop, openTunnels, heldLeases, recover } = world({ holdOpen: new Promise((resolve) => { letOpen = resolve; }) });
    const recovery = recover();
    await eventually(() => calls.includes('open box-b:20002'), 'a tunnel opening on the new box');
    stop.abort();
    letOpen();
    expect(await recovery).toEqual({ outcome: 'stopped' });
    expect(calls.slice(-2)).toEqual(['close box-b:20002', 'give back l2']);
    expect(calls.some((call) => call.startsWith('move'))).toBe(false);
    expect(openTunnels.size).toBe(0);
    expect(heldLeases.size).toBe(0);
  });

  it('ends the session when the server has no such session any more, taking back the move\'s lease and tunnel', async () => {
    const { calls, openTunnels, recover } = world({ move: async () => { throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.'); } });
    expect(await recover()).toEqual({ outcome: 'lost', reason: 'the server ended the session' });
    expect(calls.slice(-2)).toEqual(['close box-b:20002', 'give back l2']);
    expect(openTunnels.size).toBe(0);
  });

  it.each([
    ['its answer was lost on the way', new ApiError(0, 'SERVER_UNREACHABLE', 'Cannot reach the tmux.me server')],
    ['the server says the session moved meanwhile', new ApiError(409, 'SESSION_MOVED', 'The session moved meanwhile.')],
  ])('takes a move as done when %s but the session, read again, is on the new lease', async (_, error) => {
    const moved = sessionOn({ ...lost, port: 20002, tunnelHost: 'box-b', boxId: 'box-2' });
    const { options, calls, openTunnels, recover } = world({ move: async () => { throw error; } });
    options.api.getSession = async () => moved;
    expect(await recover()).toMatchObject({ outcome: 'moved', session: moved });
    expect(calls.some((call) => call.startsWith('give back'))).toBe(false);
    expect([...openTunnels]).toEqual(['box-b:20002']);
  });

  it('with a server of one box (its lease names none), only reopens on that box until the time allowed is up', async () => {
    const { options, calls, notices } = world();
    const { boxId: _none, ...oneBox } = lost;
    expect(await recoverTunnel(oneBox, options)).toEqual({ outcome: 'lost', reason: 'the tunnel could not be reopened' });
    expect(calls.length).toBeGreaterThan(4);
    expect(new Set(calls)).toEqual(new Set(['open box-a:20001']));
    expect(notices).toEqual([]);
  });
});

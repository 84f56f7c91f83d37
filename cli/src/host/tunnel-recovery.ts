import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type PairingSession, type PortLease, type TmuxmeApi } from '../lib/api-client.js';
import type { OpenTunnel } from './host-backend.js';
import type { SessionRequests } from './session-requests.js';

/** How bringing a dropped tunnel back ended. */
export type Recovery =
  /** Its box came back: a new tunnel on the same lease. */
  | { outcome: 'reopened'; tunnel: OpenTunnel }
  /** The session is on another box now; the server released the old lease. */
  | { outcome: 'moved'; lease: PortLease; tunnel: OpenTunnel; session: PairingSession }
  /** Neither came to pass in time, or the server has no such session any more: the session ends, for `reason`. */
  | { outcome: 'lost'; reason: string }
  /** The session ended meanwhile: whatever the recovery had opened is closed and given back. */
  | { outcome: 'stopped' };

export interface TunnelRecoveryOptions {
  api: Pick<TmuxmeApi, 'giveBackLease' | 'moveSession' | 'getSession'>;
  sessionId: string;
  /** A lease of the session's kind (private or not) on a box other than `avoidBox`. */
  leasePort: (avoidBox: string) => Promise<PortLease>;
  /** Opens a tunnel on a lease, waiting out the moment a new box takes to admit our key. */
  openTunnel: (lease: PortLease) => Promise<OpenTunnel>;
  /** The session's writes, so the move goes alone. */
  requests: SessionRequests;
  notice: (message: string) => void;
  /** Aborted when the session ends. */
  signal: AbortSignal;
  /** The waits before each try on the same box, before the box is taken for lost: a box whose sshd restarts is back at once. */
  sameBoxDelaysMs?: readonly number[];
  /** Then a move and the same box take turns, these waits apart (the last one repeats). */
  backOffMs?: readonly number[];
  /** From the drop to giving up. */
  giveUpAfterMs?: number;
}

/** The server has no such session any more: it ended it (expiry, or the host from elsewhere). */
class SessionGone extends Error {}

/**
 * Brings a dropped tunnel back: on the same lease if its box answers again within seconds, else by moving the session
 * to a lease on another box (a tunnel there first, then the move, so guests are never sent to a port nobody holds).
 * Moves and the lost box take turns until one works or time is up. Nothing it opens outlives a try that failed; a
 * tunnel it resolves with is the caller's to close, even if the session ended as it opened.
 */
export async function recoverTunnel(lost: PortLease, options: TunnelRecoveryOptions): Promise<Recovery> {
  const { signal, sameBoxDelaysMs = [0, 1_000, 2_000], backOffMs = [1_000, 2_000, 5_000], giveUpAfterMs = 30_000 } = options;
  const deadline = Date.now() + giveUpAfterMs;
  const reopen = async (): Promise<Recovery | undefined> => {
    const tunnel = await options.openTunnel(lost).catch(() => undefined);
    return tunnel && { outcome: 'reopened', tunnel };
  };
  try {
    for (const delay of sameBoxDelaysMs) {
      await sleep(delay, undefined, { signal });
      const reopened = await reopen();
      if (reopened) return reopened;
    }
    // A lease that names no box comes from a server with one box: there is nowhere to move to.
    const avoidBox = lost.boxId;
    if (avoidBox !== undefined) options.notice(`The tunnel box ${lost.tunnelHost} stopped answering; moving the session to another box…`);
    for (let round = 0; ; round += 1) {
      const moved = avoidBox === undefined ? undefined : await move(avoidBox, options).catch((error: unknown) => {
        if (signal.aborted || error instanceof SessionGone) throw error;
        return error as Error;
      });
      if (moved && !(moved instanceof Error)) return moved;
      const delay = backOffMs[Math.min(round, backOffMs.length - 1)]!;
      const timeLeft = Date.now() + delay < deadline;
      if (moved) options.notice(`Could not move the session (${moved.message})${timeLeft ? `; trying again in ${delay / 1000} s` : ''}.`);
      if (!timeLeft) return { outcome: 'lost', reason: 'the tunnel could not be reopened' };
      await sleep(delay, undefined, { signal });
      const reopened = await reopen();
      if (reopened) return reopened;
    }
  } catch (error) {
    if (signal.aborted) return { outcome: 'stopped' };
    return { outcome: 'lost', reason: error instanceof SessionGone ? 'the server ended the session' : 'the tunnel could not be reopened' };
  }
}

/** One try at moving: a lease on another box, our tunnel there, then the session onto it. A try that fails takes back what it opened. */
async function move(avoidBox: string, options: TunnelRecoveryOptions): Promise<Recovery> {
  const { api, sessionId, signal } = options;
  let lease: PortLease | undefined;
  let tunnel: OpenTunnel | undefined;
  try {
    lease = await options.leasePort(avoidBox);
    tunnel = await options.openTunnel(lease);
    signal.throwIfAborted();
    const leased = lease;
    const session = await options.requests.run(() => api.moveSession(sessionId, leased.leaseId)).catch((error: unknown) => movedAnyway(error, leased, options));
    return { outcome: 'moved', lease, tunnel, session };
  } catch (error) {
    await tunnel?.close().catch(() => {});
    if (lease) await api.giveBackLease(lease.leaseId).catch(() => {});
    if (error instanceof ApiError && error.code === 'SESSION_NOT_FOUND') throw new SessionGone(error.message);
    throw error;
  }
}

/**
 * A move that failed as far as we heard may have happened all the same: its answer was lost on the way, or another
 * move of the session won (SESSION_MOVED). The session, read again, says whether it is on our new lease.
 */
async function movedAnyway(error: unknown, lease: PortLease, { api, sessionId }: TunnelRecoveryOptions): Promise<PairingSession> {
  const unsure = error instanceof ApiError && (error.code === 'SESSION_MOVED' || error.status === 0 || error.status >= 500);
  if (!unsure) throw error;
  const session = await api.getSession(sessionId).catch(() => undefined);
  if (session?.boxId === lease.boxId && session?.port === lease.port) return session;
  throw error;
}

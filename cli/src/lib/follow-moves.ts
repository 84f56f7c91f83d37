import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type PairingSession } from './api-client.js';

/** ssh's status for an error of its own, a lost connection among them; when the guest leaves, it passes on the remote side's. */
export const sshFailed = 255;

export interface FollowMovesOptions {
  /** The session as the server has it now (GET /api/v1/pairing/sessions/:id). */
  fetchSession: () => Promise<PairingSession>;
  /** Joins the session; resolves to ssh's exit status. */
  runJoin: (session: PairingSession) => Promise<number>;
  say: (line: string) => void;
  /** How long the host gets to notice that its box is lost and to move the session (default 30 s). */
  waitForMoveMs?: number;
  /** How often the session is read meanwhile (default 2 s). */
  pollEveryMs?: number;
}

/**
 * `tmuxme join`, following the session when its host moves it to another tunnel box. ssh failing (status 255)
 * is not the guest leaving: the session is read again until it shows another box or port, and joined there.
 * A session that is gone, or that stays where it was, ends the join with ssh's status.
 */
export async function joinFollowingMoves(first: PairingSession, options: FollowMovesOptions): Promise<number> {
  const { runJoin, say, waitForMoveMs = 30_000 } = options;
  for (let session = first; ;) {
    const status = await runJoin(session);
    if (status !== sshFailed) return status;
    say(`ssh ended with status ${status}; checking for up to ${waitForMoveMs / 1000} s whether the host moves the session to another box (Ctrl-C stops)…`);
    const moved = await movedSession(session, options);
    if (!moved) return status;
    // A move changes the box, never the host: another host key would be another machine.
    if (moved.hostKey !== session.hostKey) {
      say(`The session moved to ${moved.tunnelHost} port ${moved.port}, but with a host key other than the one you joined: not joining again. Tell the host.`);
      return status;
    }
    say(`The session moved to ${moved.tunnelHost} port ${moved.port}; joining again…`);
    session = moved;
  }
}

const placeOf = (session: PairingSession) => `${session.boxId ?? ''} ${session.tunnelHost}:${session.port}`;

/** The session once the server shows it on another box or port; undefined once it is gone, or if it has not moved in time. */
async function movedSession(session: PairingSession, { fetchSession, waitForMoveMs = 30_000, pollEveryMs = 2_000 }: FollowMovesOptions) {
  const deadline = Date.now() + waitForMoveMs;
  for (;;) {
    const now = await fetchSession().catch((error: unknown) => {
      // The server out of reach for a moment is asked again; any refusal (404: the session ended) is final.
      if (error instanceof ApiError && (error.status === 0 || error.status >= 500)) return undefined;
      return 'gone' as const;
    });
    if (now === 'gone') return undefined;
    if (now && placeOf(now) !== placeOf(session)) return now;
    if (Date.now() + pollEveryMs > deadline) return undefined;
    await sleep(pollEveryMs);
  }
}

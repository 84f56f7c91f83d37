import type { FastifyBaseLogger } from 'fastify';
import { leaseEnding, sessionEnding, type Endings } from './endings.js';
import { leaseRef, type Leases } from './leases.js';
import type { Sessions } from './sessions.js';

export interface SweeperDeps {
  sessions: Sessions;
  leases: Leases;
  endings: Endings;
  intervalMs: number;
  logger: FastifyBaseLogger;
}

// A claim this old without its lease was left by a replica that died while leasing (a lease is written
// within milliseconds of its claims).
const orphanClaimAgeMs = 60_000;
// An ending is the claim that keeps a second sweeper from ending the same thing again, so it is kept
// far longer than any sweep can stall between reading a lease or session and ending it.
const endingRetentionMs = 10 * 60_000;

/**
 * Ends what has expired and finishes ends left half done. Every replica runs one, all at once: each
 * end is an insert-claim (see Endings), and everything else here is idempotent. It is the one part of
 * the service that reads whole collections, off the request paths: a few passes over what is live.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly deps: SweeperDeps) {}

  start() {
    this.timer = setInterval(() => {
      this.running ??= this.pass().finally(() => { this.running = undefined; });
    }, this.deps.intervalMs);
  }

  async stop() {
    clearInterval(this.timer);
    await this.running;
  }

  private async pass() {
    try {
      const now = new Date();
      const inSession = await this.sweepSessions(now);
      await this.sweepLeases(now, inSession);
      if (this.failing) this.deps.logger.info('the sweeper works again');
      this.failing = false;
    } catch (error) {
      // The next pass tries again; one line per outage is enough.
      if (!this.failing) this.deps.logger.warn({ err: error }, 'sweep failed; expired leases and sessions wait for the next pass');
      this.failing = true;
    }
  }

  /** Ends sessions past their heartbeat, or whose lease ended under them; returns the leases they hold. */
  private async sweepSessions(now: Date): Promise<Set<string>> {
    const { sessions, endings } = this.deps;
    const standing = await sessions.standing();
    const ended = await endings.all();
    for (const session of standing) {
      const over = session.expiresAt <= now || ended.has(sessionEnding(session._id))
        // A session that moved meanwhile released the lease read here: its lease is the new one by now.
        || (ended.has(leaseEnding(session.leaseId)) && await sessions.stillOnLease(session));
      if (over) await sessions.end(session, 'expired');
    }
    const old = await endings.recordedBefore('session', new Date(now.getTime() - endingRetentionMs));
    const stillStanding = new Set(standing.map((s) => sessionEnding(s._id)));
    await endings.forget(old.filter((id) => !stillStanding.has(id)));
    return new Set(standing.map((s) => s.leaseId));
  }

  /** Releases unconfirmed leases past their time, and cleans up after released ones. */
  private async sweepLeases(now: Date, inSession: Set<string>) {
    const { leases, endings } = this.deps;
    const live = await leases.live();
    const ended = await endings.all();
    for (const lease of live) {
      const leaseId = lease._id.toString();
      if (ended.has(leaseEnding(leaseId))) await leases.cleanUp(leaseId);
      else if (lease.expiresAt <= now && !inSession.has(leaseId)) await leases.release(leaseRef(lease), 'expired');
    }
    const liveIds = new Set(live.map((lease) => lease._id.toString()));
    await leases.dropOrphanClaims(liveIds, new Date(now.getTime() - orphanClaimAgeMs));
    const old = await endings.recordedBefore('lease', new Date(now.getTime() - endingRetentionMs));
    await endings.forget(old.filter((id) => !liveIds.has(id.slice('lease:'.length))));
  }
}

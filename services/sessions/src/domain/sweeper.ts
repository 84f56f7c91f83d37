import type { FastifyBaseLogger } from 'fastify';
import { leaseEnding, sessionEnding, type Endings } from './endings.js';
import { leaseRef, type Leases } from './leases.js';
import type { Sessions } from './sessions.js';
import type { LiveView } from './live-view.js';

export interface SweeperDeps {
  sessions: Sessions;
  leases: Leases;
  endings: Endings;
  view: LiveView;
  intervalMs: number;
  logger: FastifyBaseLogger;
}

// A claim this old without its lease was left by a replica that died while leasing (a lease is written
// within milliseconds of its claims).
const orphanClaimAgeMs = 60_000;
// An ending is the claim that keeps a second sweeper from ending the same thing again, so it is kept
// far longer than any sweep can stall between reading a lease or session and ending it.
const endingRetentionMs = 10 * 60_000;
// Passes in between only release the leases this replica's view says are due, which costs no scan.
const fullPassEvery = 12;

/**
 * Ends what has expired and finishes ends left half done. Every replica runs one, all at once: each
 * end is an insert-claim (see Endings), and everything else here is idempotent. Every `fullPassEvery`
 * passes it reads whole collections (the one part of the service that does, off the request paths);
 * the passes between release the expired leases the live view names, by `_id`.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;
  private passes = 0;

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
      if (this.passes++ % fullPassEvery === 0) await this.sweepLeases(now, await this.sweepSessions(now));
      else await this.releaseDueLeases(now);
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

  /** Leases past their time with no session on their port, as the view has them; the release reads the lease by `_id`. */
  private async releaseDueLeases(now: Date) {
    const { leases, view } = this.deps;
    for (const lease of view.dueLeases(now)) {
      if (view.sessionOn(lease.boxId, lease.port) === undefined) await leases.release(lease, 'expired');
    }
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

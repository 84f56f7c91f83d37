import { randomInt } from 'node:crypto';
import mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import type { Outbox } from '@tmuxme/bus';
import { claim, forbidden, HttpError, notFound, releaseClaim } from '@tmuxme/service-kit';
import type { LeaseDocument } from '../model/lease.js';
import type { ClaimDocument } from '../model/claim.js';
import { portLeased, portReleased, type LeaseRef } from '../events/session-events.js';
import { leaseEnding, type Endings } from './endings.js';
import { randomPort, retryAfterSeconds, type TunnelBox, type TunnelBoxes } from './tunnel-boxes.js';
import type { Users } from './users.js';
import type { LiveView } from './live-view.js';

export interface LeasesDeps {
  leases: mongoose.Model<LeaseDocument>;
  portClaims: mongoose.Model<ClaimDocument>;
  slots: mongoose.Model<ClaimDocument>;
  endings: Endings;
  boxes: TunnelBoxes;
  users: Users;
  /** What is live on each box, for the ports taken on a nearly full one. */
  view: LiveView;
  /** Stages PortLeased with the lease document's insert. */
  outbox: Outbox;
  maxLeasesPerUser: number;
  /** How long a lease waits for its session to be declared. */
  leaseTtlMs: number;
}

// Random probes find a free port at once while a range is mostly free; near full they collide, and
// picking among the ports seen free takes over.
const randomProbes = 8;
const listedProbes = 5;

const portKey = (boxId: string, port: number) => `${boxId}:${port}`;

/** A lease's box; documents from before box ids name their box by its host name, which was its id then. */
export const boxIdOf = (placed: { boxId?: string | null; tunnelHost: string }) => placed.boxId ?? placed.tunnelHost;

/**
 * The box account a lease's host logs in as to open its forward. sshd binds the forward by the
 * account, whatever the client asks: every address for `tunnel`, loopback only for `tunnel-private`.
 */
export const tunnelUser = (isPrivate: boolean) => (isPrivate ? 'tunnel-private' as const : 'tunnel' as const);

/** The claims (by `_id`) a lease holds, or has got so far while leasing. */
interface Held {
  slot?: string;
  port?: string;
}

export const leaseRef = (lease: Pick<LeaseDocument, '_id' | 'userId' | 'username' | 'boxId' | 'tunnelHost' | 'port'>): LeaseRef => ({
  leaseId: lease._id.toString(), userId: lease.userId, username: lease.username, boxId: boxIdOf(lease), tunnelHost: lease.tunnelHost, port: lease.port,
});

/**
 * Port leases. Every exclusive thing a lease holds is claimed by an insert under a unique key: the port
 * (`port_claims`), one of the user's slots (`lease_slots`, which is what makes the cap race-free) and, in
 * the end, its ending. So any number of replicas can lease at once without handing out a port twice.
 */
export class Leases {
  constructor(private readonly deps: LeasesDeps) {}

  /** A private lease's port may only be bound to the box's loopback, so guests reach it through the jump user alone. */
  async lease(owner: Principal, requestId: string, { private: isPrivate, avoidBox }: { private: boolean; avoidBox?: string }) {
    const { leases, outbox, users, leaseTtlMs } = this.deps;
    await users.assertLive(owner);
    const _id = new mongoose.Types.ObjectId();
    const leaseId = _id.toString();
    const held: Held = {};
    try {
      held.slot = await this.claimSlot(owner.userId, leaseId);
      const { box, port } = await this.claimPort(leaseId, avoidBox);
      held.port = portKey(box.boxId, port);
      const lease = {
        _id, userId: owner.userId, username: owner.username, slot: held.slot, boxId: box.boxId, tunnelHost: box.tunnelHost, tunnelPort: box.tunnelPort, port,
        private: isPrivate, tunnelHostKey: box.hostKeyLine, expiresAt: new Date(Date.now() + leaseTtlMs),
      };
      const leased = portLeased(lease, requestId);
      await outbox.write([leased], { model: leases, id: _id, inserted: true }, (eventIds) => leases.create({ ...lease, eventIds }));
      this.deps.view.apply(leased);
      return {
        port, boxId: box.boxId, tunnelHost: box.tunnelHost, tunnelPort: box.tunnelPort, tunnelHostKey: box.hostKeyLine, leaseId, expiresAt: lease.expiresAt.toISOString(),
        private: isPrivate, tunnelUser: tunnelUser(isPrivate),
      };
    } catch (error) {
      await this.dropClaims(leaseId, held);
      throw error;
    }
  }

  /** Starts at a random slot, so one user's concurrent requests rarely contend for the same one. */
  private async claimSlot(userId: string, leaseId: string): Promise<string> {
    const { slots, maxLeasesPerUser } = this.deps;
    const first = randomInt(maxLeasesPerUser);
    for (let i = 0; i < maxLeasesPerUser; i += 1) {
      const _id = `${userId}:${(first + i) % maxLeasesPerUser}`;
      if (await claim(slots, { _id, scope: userId, leaseId })) return _id;
    }
    throw new HttpError(429, 'TOO_MANY_LEASES',
      `You hold ${maxLeasesPerUser} port leases already; end a session, or wait until an unused lease expires.`);
  }

  /** On the least loaded box that has a free port: a box fills up only when the others are as full. */
  private async claimPort(leaseId: string, avoidBox?: string): Promise<{ box: TunnelBox; port: number }> {
    const { portClaims, boxes } = this.deps;
    const tryPort = async (box: TunnelBox, port: number) => {
      const claimed = await claim(portClaims, { _id: portKey(box.boxId, port), scope: box.boxId, leaseId });
      if (claimed) boxes.placed(box);
      return claimed;
    };
    for (const box of await boxes.forLease(avoidBox)) {
      for (let i = 0; i < randomProbes; i += 1) {
        const port = randomPort(box);
        if (await tryPort(box, port)) return { box, port };
      }
      for (let i = 0; i < listedProbes; i += 1) {
        const free = this.freePorts(box);
        if (free.length === 0) break;
        const port = free[randomInt(free.length)]!;
        if (await tryPort(box, port)) return { box, port };
      }
    }
    throw new HttpError(503, 'NO_FREE_PORT', 'Every tunnel port is in use right now; try again in a little while.', { retryAfter: retryAfterSeconds });
  }

  /** As this replica's view has them: a port leased elsewhere a moment ago only costs a failed claim. */
  private freePorts(box: TunnelBox): number[] {
    const taken = this.deps.view.takenPorts(box.boxId);
    const free: number[] = [];
    for (let port = box.ports.first; port <= box.ports.last; port += 1) {
      if (!taken.has(port)) free.push(port);
    }
    return free;
  }

  /**
   * The caller's live lease on this port, for declaring a session on it: the one named, or else the one
   * found through the caller's slots (a port number alone may be leased on several boxes).
   */
  async heldBy(userId: string, port: number, leaseId?: string): Promise<LeaseDocument> {
    const candidates = leaseId === undefined ? await this.slotLeaseIds(userId) : [leaseId];
    const live = await Promise.all(candidates.map((candidate) => this.liveOf(userId, candidate)));
    const lease = live.find((candidate) => candidate?.port === port);
    if (lease) return lease;
    throw forbidden('PORT_NOT_LEASED', `Port ${port} is not leased to you; ask for a port first (GET /api/v1/pairing/port).`);
  }

  /** The caller's live lease by id, for moving a session onto it. */
  async liveLeaseOf(userId: string, leaseId: string): Promise<LeaseDocument> {
    const lease = await this.liveOf(userId, leaseId);
    if (!lease) throw notFound('LEASE_NOT_FOUND', 'You hold no live lease with that id; ask for a port first (GET /api/v1/pairing/port).');
    return lease;
  }

  private async liveOf(userId: string, leaseId: string): Promise<LeaseDocument | undefined> {
    if (!mongoose.isValidObjectId(leaseId)) return undefined;
    const lease = await this.deps.leases.findById(leaseId).lean();
    const live = lease?.userId === userId && !lease.deletedAt && !await this.deps.endings.isEnded(leaseEnding(lease._id));
    return live ? lease : undefined;
  }

  /** Ends the lease once (PortReleased), then frees its port and slot for reuse. */
  async release(lease: LeaseRef, reason: string, requestId?: string) {
    const released = portReleased(lease, requestId);
    await this.deps.endings.record(leaseEnding(lease.leaseId), reason, [released]);
    this.deps.view.apply(released);
    await this.cleanUp(lease.leaseId);
  }

  /** Idempotent, so the sweeper can finish what a crashed replica left half done. */
  async cleanUp(leaseId: string) {
    const lease = await this.deps.leases.findById(leaseId, { slot: 1, boxId: 1, tunnelHost: 1, port: 1, deletedAt: 1 }).lean();
    // A lease document is purged only after it was marked gone, which comes after its claims went.
    if (!lease || lease.deletedAt) return;
    await this.dropClaims(leaseId, { slot: lease.slot, port: portKey(boxIdOf(lease), lease.port) });
    await this.deps.leases.updateOne({ _id: leaseId }, { $set: { deletedAt: new Date() } });
    this.deps.outbox.markedGone(this.deps.leases, leaseId);
  }

  /** Only this lease's claims. */
  private async dropClaims(leaseId: string, held: Held) {
    const ours = (claim: ClaimDocument) => claim.leaseId === leaseId;
    await Promise.all([
      held.port && releaseClaim(this.deps.portClaims, held.port, ours),
      held.slot && releaseClaim(this.deps.slots, held.slot, ours),
    ]);
  }

  byId(leaseId: string) {
    return this.deps.leases.findById(leaseId).lean();
  }

  /** Every lease not yet marked gone: the sweeper's occasional full pass, the one place that scans. */
  live() {
    return this.deps.leases.find({ deletedAt: null }).lean();
  }

  /** The user's live leases, found through the user's slots. */
  async liveOfUser(userId: string): Promise<LeaseDocument[]> {
    const found = await Promise.all((await this.slotLeaseIds(userId)).map((leaseId) => this.liveOf(userId, leaseId)));
    return found.filter((lease) => lease !== undefined);
  }

  /** The leases the user's slots name: a user holds at most `maxLeasesPerUser`, each under a known `_id`. */
  private async slotLeaseIds(userId: string): Promise<string[]> {
    const { slots, maxLeasesPerUser } = this.deps;
    const held = await Promise.all(Array.from({ length: maxLeasesPerUser }, (_, n) => slots.findById(`${userId}:${n}`, { leaseId: 1 }).lean()));
    return held.flatMap((slot) => (slot ? [slot.leaseId] : []));
  }

  /** Claims left behind by a lease that was never written (its replica died between the inserts). */
  async dropOrphanClaims(liveLeaseIds: Set<string>, olderThan: Date) {
    for (const claims of [this.deps.portClaims, this.deps.slots]) {
      const old = await claims.find({ createdAt: { $lt: olderThan } }, { leaseId: 1 }).lean();
      const orphans = old.filter((c) => !liveLeaseIds.has(c.leaseId)).map((c) => c._id);
      if (orphans.length > 0) await claims.deleteMany({ _id: { $in: orphans } });
    }
  }
}

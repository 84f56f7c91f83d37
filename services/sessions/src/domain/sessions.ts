import mongoose from 'mongoose';
import type { Principal } from '@tmuxme/auth';
import type { Outbox } from '@tmuxme/bus';
import { badRequest, conflict, forbidden, notFound } from '@tmuxme/service-kit';
import type { SessionDocument } from '../model/session.js';
import type { ClaimDocument } from '../model/claim.js';
import { sessionDeclared, sessionEnded, sessionMoved, type EndReason } from '../events/session-events.js';
import { sessionEnding, type Endings } from './endings.js';
import { foldGuests, type GuestInput } from './guests.js';
import { parseHostKey } from './host-key.js';
import { joinCommands } from './join-commands.js';
import { boxIdOf, leaseRef, type Leases } from './leases.js';
import type { Users } from './users.js';
import type { LeaseDocument } from '../model/lease.js';
import { claim, isDuplicateKey } from '@tmuxme/service-kit';
import type { LiveView } from './live-view.js';

export interface SessionsDeps {
  sessions: mongoose.Model<SessionDocument>;
  /** One per move, `<sessionId>:<the lease it moves from>`: of two moves racing from one lease, one wins. */
  moves: mongoose.Model<ClaimDocument>;
  leases: Leases;
  /** Who is in which live session, and which ports carry one (FerretDB v1 could only scan for those). */
  view: LiveView;
  endings: Endings;
  users: Users;
  /** Stages SessionDeclared with the session document's insert, SessionMoved with its update. */
  outbox: Outbox;
  /** A session ends this long after its last heartbeat. */
  sessionTtlMs: number;
}

export interface DeclareInput {
  port: number;
  guests: GuestInput[];
  hostKey?: string;
  /** Must be what the lease was: a session cannot move its port between the box's two tunnel users. */
  private?: boolean;
  /** The lease to declare on; without it, the caller's lease on `port` (if the port is leased on two boxes, either). */
  leaseId?: string;
}

// What a session says, whatever the outbox has recorded about it.
type Session = Omit<SessionDocument, 'eventIds' | 'deletedAt'>;

/** Where a session on this lease is: its box, that box's address and key, and the port. */
const placementOn = (lease: LeaseDocument) => ({
  leaseId: lease._id.toString(), boxId: boxIdOf(lease), tunnelHost: lease.tunnelHost, tunnelPort: lease.tunnelPort, port: lease.port,
  tunnelHostKey: lease.tunnelHostKey ?? null,
});

const isIn = (session: Pick<SessionDocument, 'host' | 'guests'>, userId: string) =>
  session.host.userId === userId || session.guests.some((guest) => guest.userId === userId);

const notFoundError = () => notFound('SESSION_NOT_FOUND', 'You have no live session with that id.');

function privateMismatch(port: number, leasedPrivate: boolean) {
  const message = leasedPrivate
    ? `Port ${port} was leased as a private port: declare the session with "private": true.`
    : `Port ${port} was leased as a public port: declare the session without "private": true, or lease a private port (GET /api/v1/pairing/port?private=true).`;
  return badRequest('PRIVATE_MISMATCH', message, { field: 'private' });
}

/**
 * Pairing sessions. A session is live while its document stands, no ending is recorded for it and its
 * last heartbeat is recent: whatever the sweeper has not caught up with yet already counts as over.
 */
export class Sessions {
  constructor(private readonly deps: SessionsDeps) {}

  async declare(host: Principal, input: DeclareInput, requestId: string) {
    const { users, sessions, outbox, sessionTtlMs } = this.deps;
    const guests = foldGuests(input.guests, host.username);
    const hostKey = input.hostKey === undefined ? undefined : parseHostKey(input.hostKey);
    await users.assertLive(host);
    const guestIds = await this.guestIds(guests.map((guest) => guest.username));
    const lease = await this.declarableLease(host, input.port, input.leaseId);
    const isPrivate = lease.private === true;
    if ((input.private ?? false) !== isPrivate) throw privateMismatch(input.port, isPrivate);

    const _id = new mongoose.Types.ObjectId();
    const session = {
      _id, host: { userId: host.userId, username: host.username },
      guests: guests.map((guest) => ({ ...guest, userId: guestIds.get(guest.username)! })),
      ...placementOn(lease), private: isPrivate,
      hostKey: hostKey?.line ?? null, hostKeyFingerprint: hostKey?.fingerprint ?? null,
      expiresAt: new Date(Date.now() + sessionTtlMs), createdAt: new Date(),
    };
    const declared = sessionDeclared(session, requestId);
    try {
      await outbox.write([declared], { model: sessions, id: _id, inserted: true }, (eventIds) => sessions.create({ ...session, eventIds }));
      this.deps.view.apply(declared);
    } catch (error) {
      // Two declarations raced for this lease; the unique index let one through.
      if (isDuplicateKey(error)) throw this.portInSession(input.port);
      throw error;
    }
    return this.view(session, host.userId);
  }

  /** Every guest must have a live account; all the unknown ones are named at once. */
  private async guestIds(usernames: string[]) {
    const ids = await this.deps.users.idsByName(usernames);
    const unknownGuests = usernames.filter((username) => !ids.has(username));
    if (unknownGuests.length > 0) {
      throw badRequest('UNKNOWN_GUESTS', `There is no account called ${unknownGuests.map((name) => `"${name}"`).join(', ')}.`, { field: 'guests', unknownGuests });
    }
    return ids;
  }

  private async declarableLease(host: Principal, port: number, leaseId?: string) {
    const lease = await this.deps.leases.heldBy(host.userId, port, leaseId);
    // A lease carrying a session no longer expires by itself. (Otherwise the insert's unique index tells.)
    if (lease.expiresAt.getTime() <= Date.now()) {
      if (this.onLease(lease)) throw this.portInSession(port);
      throw forbidden('LEASE_EXPIRED', `Your lease on port ${port} has expired; ask for a new port.`);
    }
    return lease;
  }

  /**
   * The host lost the session's box and holds a tunnel on another box's lease: the session moves there,
   * keeping its id and guests (SessionMoved mails them the new command), and its old lease is released.
   * Moving onto the lease the session is on already changes nothing, so a retried request is harmless.
   */
  async move(host: Principal, sessionId: string, leaseId: string, requestId: string) {
    const { sessions, outbox, leases, moves } = this.deps;
    const session = await this.hostedBy(host, sessionId);
    if (session.leaseId === leaseId) return this.view(session, host.userId);
    const lease = await leases.liveLeaseOf(host.userId, leaseId);
    const isPrivate = session.private === true;
    if ((lease.private === true) !== isPrivate) throw privateMismatch(lease.port, lease.private === true);
    const inSession = conflict('LEASE_IN_SESSION', 'That lease carries a session already; ask for another port to move this session onto.');
    if (this.onLease(lease)) throw inSession;
    const movedAgain = conflict('SESSION_MOVED', 'The session changed while it was being moved; read it again (GET /api/v1/pairing/sessions/:id) and try again.');
    // Of two moves racing from this lease, the one whose claim goes in first wins.
    if (!await claim(moves, { _id: `${sessionId}:${session.leaseId}`, scope: sessionId, leaseId })) throw movedAgain;
    const placement = placementOn(lease);
    const moved = { ...session, ...placement, private: isPrivate };
    const from = { boxId: boxIdOf(session), tunnelHost: session.tunnelHost, port: session.port };
    const event = sessionMoved(moved, from, requestId);
    try {
      await outbox.write([event], { model: sessions, id: session._id },
        (eventIds) => sessions.updateOne({ _id: session._id }, { $set: placement, $push: { eventIds: { $each: eventIds } } }));
    } catch (error) {
      // The unique index on leaseId: a session was declared on that lease meanwhile.
      if (isDuplicateKey(error)) throw inSession;
      throw error;
    }
    // FerretDB rewrites the whole document on update, so a heartbeat racing the move may have put the old
    // placement back; the read tells whether the move stuck (if not, the outbox drops its event).
    const now = await sessions.findById(session._id, { leaseId: 1 }).lean();
    if (now?.leaseId !== leaseId) throw movedAgain;
    this.deps.view.apply(event);
    await leases.release({ ...from, leaseId: session.leaseId, userId: host.userId, username: host.username }, 'session moved', requestId);
    return this.view(moved, host.userId);
  }

  /** Whether a live session is on the lease's port, as this replica knows; the unique index on leaseId has the last word. */
  private onLease(lease: LeaseDocument): boolean {
    return this.deps.view.sessionOn(boxIdOf(lease), lease.port) !== undefined;
  }

  private portInSession(port: number) {
    return conflict('PORT_IN_SESSION', `Port ${port} carries a session already; ask for another port for a new session.`);
  }

  async list(viewer: Principal) {
    await this.deps.users.assertLive(viewer);
    const { userId } = viewer;
    const found = await this.liveByIds(this.deps.view.sessionIdsOf(userId));
    return found.filter((session) => isIn(session, userId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((session) => this.view(session, userId));
  }

  async get(viewer: Principal, sessionId: string) {
    return this.view(await this.visibleTo(viewer, sessionId), viewer.userId);
  }

  async heartbeat(host: Principal, sessionId: string) {
    const session = await this.hostedBy(host, sessionId);
    const expiresAt = new Date(Date.now() + this.deps.sessionTtlMs);
    // A heartbeat racing the end's tombstone may undo it (FerretDB rewrites whole documents); the ending
    // itself is a separate record, so the session stays over and the sweeper marks it gone again.
    await this.deps.sessions.updateOne({ _id: session._id }, { $set: { expiresAt } });
    return { expiresAt: expiresAt.toISOString() };
  }

  async remove(host: Principal, sessionId: string, requestId: string) {
    await this.end(await this.hostedBy(host, sessionId), 'ended', requestId);
  }

  /**
   * A host that gives up before declaring (Ctrl-C, a tunnel that would not open) hands its port back
   * at once instead of holding it until the lease expires. A lease carrying a session ends with it.
   */
  async giveBackLease(host: Principal, leaseId: string, requestId: string) {
    const lease = mongoose.isValidObjectId(leaseId) ? await this.deps.leases.byId(leaseId) : null;
    if (!lease || lease.userId !== host.userId || lease.deletedAt) throw notFound('LEASE_NOT_FOUND', 'You hold no live lease with that id.');
    if (this.onLease(lease)) {
      throw conflict('LEASE_IN_SESSION', 'That port carries a session; end the session instead (DELETE /api/v1/pairing/sessions/:id).');
    }
    await this.deps.leases.release(leaseRef(lease), 'given back', requestId);
  }

  /**
   * Ends the session and releases its lease, each once (SessionEnded, PortReleased). Idempotent, so a
   * sweeper may call it again for a session whose end another replica left half done.
   */
  async end(session: Session, reason: EndReason, requestId?: string) {
    const sessionId = session._id.toString();
    const boxId = boxIdOf(session);
    const ended = sessionEnded(sessionId, boxId, reason, requestId);
    await this.deps.endings.record(sessionEnding(sessionId), reason, [ended]);
    this.deps.view.apply(ended);
    const lease = { leaseId: session.leaseId, userId: session.host.userId, username: session.host.username, boxId, tunnelHost: session.tunnelHost, port: session.port };
    await this.deps.leases.release(lease, `session ${reason}`, requestId);
    await this.deps.sessions.updateOne({ _id: session._id }, { $set: { deletedAt: new Date() } });
    this.deps.outbox.markedGone(this.deps.sessions, session._id);
  }

  /** A deleted account's sessions end and its leases go; sessions it was a guest in carry on without it. */
  async endAccount(userId: string, username: string, requestId?: string) {
    await this.deps.users.markDeleted(userId, username);
    const hosted = (await this.liveByIds(this.deps.view.sessionIdsOf(userId))).filter((session) => session.host.userId === userId);
    for (const session of hosted) await this.end(session, 'account-deleted', requestId);
    for (const lease of await this.deps.leases.liveOfUser(userId)) {
      await this.deps.leases.release(leaseRef(lease), 'account deleted', requestId);
    }
  }

  /** Whether the session is still on the lease it was read with, or has moved since. */
  async stillOnLease(session: Pick<Session, '_id' | 'leaseId'>): Promise<boolean> {
    return (await this.deps.sessions.findById(session._id, { leaseId: 1 }).lean())?.leaseId === session.leaseId;
  }

  /** Every session document not yet marked gone, ended or not: the sweeper's work list. */
  standing() {
    return this.deps.sessions.find({ deletedAt: null }).lean();
  }

  /** Read by `_id` each, and live by the documents themselves, whatever the view said of them. */
  private async liveByIds(ids: string[]) {
    const now = Date.now();
    const found = await Promise.all(ids.map((id) => this.deps.sessions.findById(id).lean()));
    const standing = found.filter((session) => session !== null && !session.deletedAt && session.expiresAt.getTime() > now);
    return this.deps.endings.sessionsNotEnded(standing as SessionDocument[]);
  }

  /** Host or guest; anyone else learns nothing, not even that the session exists. */
  private async visibleTo(viewer: Principal, sessionId: string) {
    if (!mongoose.isValidObjectId(sessionId)) throw notFoundError();
    const [session] = await this.liveByIds([sessionId]);
    if (!session || !isIn(session, viewer.userId)) throw notFoundError();
    return session;
  }

  private async hostedBy(host: Principal, sessionId: string) {
    const session = await this.visibleTo(host, sessionId);
    if (session.host.userId !== host.userId) throw forbidden('NOT_SESSION_HOST', 'Only the host of a session can keep it alive or end it.');
    return session;
  }

  private view(session: Session, viewerId: string) {
    const { tunnelHostKey } = session;
    const isPrivate = session.private === true;
    return {
      id: session._id.toString(),
      role: session.host.userId === viewerId ? 'host' as const : 'guest' as const,
      host: { username: session.host.username },
      port: session.port,
      boxId: boxIdOf(session),
      tunnelHost: session.tunnelHost,
      tunnelPort: session.tunnelPort,
      private: isPrivate,
      guests: session.guests.map(({ username, access }) => ({ username, access })),
      ...joinCommands({ ...session, private: isPrivate, tunnelHostKey }),
      ...(tunnelHostKey ? { tunnelHostKey } : {}),
      ...(session.hostKey ? { hostKey: session.hostKey, hostKeyFingerprint: session.hostKeyFingerprint! } : {}),
      createdAt: session.createdAt.toISOString(),
      expiresAt: session.expiresAt.toISOString(),
    };
  }
}

import type { LeaseRef } from '../events/session-events.js';
import { PortLeased, PortReleased, SessionDeclared, SessionEnded, SessionMoved, type Envelope, type EventData } from '@tmuxme/events';

/** The events that change what is live: every replica applies every replica's, its own included. */
export const liveViewEvents = [PortLeased, PortReleased, SessionDeclared, SessionEnded, SessionMoved] as const;
export type LiveViewEvent = Pick<Envelope, 'type' | 'data'>;

export type LiveLease = LeaseRef & { private: boolean; expiresAt: string };

export interface LiveSession {
  sessionId: string;
  hostUserId: string;
  guestUserIds: string[];
  boxId: string;
  port: number;
}

export interface Page<T> {
  items: T[];
  /** The last item's id when the page is full (more may follow), or null at the end. */
  next: string | null;
}

/** How long an ended id is remembered, so a late event about it cannot bring it back. */
const forgetEndedAfterMs = 60 * 60_000;

/** Ids that ended, kept for at least `forgetEndedAfterMs` and at most twice that. */
class Ended {
  private current = new Set<string>();
  private previous = new Set<string>();
  private rotatedAt = Date.now();

  add(id: string): void {
    if (Date.now() - this.rotatedAt > forgetEndedAfterMs) {
      this.previous = this.current;
      this.current = new Set();
      this.rotatedAt = Date.now();
    }
    this.current.add(id);
  }

  has(id: string): boolean {
    return this.current.has(id) || this.previous.has(id);
  }
}

const spot = (boxId: string, port: number) => `${boxId}:${port}`;

function page<T>(byId: Map<string, T> | undefined, after: string | undefined, limit: number): Page<T> {
  const ids = [...(byId?.keys() ?? [])].filter((id) => after === undefined || id > after).sort();
  const items = ids.slice(0, limit).map((id) => byId!.get(id)!);
  return { items, next: ids.length > limit ? ids[limit - 1]! : null };
}

/**
 * What is live, as this replica knows it from its start-up load and from every replica's events: the
 * leases and sessions on each box, and each user's sessions, hosted or joined. It answers what FerretDB v1
 * could only find by scanning (docs/architecture.md §8): a user's sessions, a box's snapshot, a box's taken
 * ports. Where a stale answer would matter, callers read the documents it names again by `_id`.
 */
export class LiveView {
  private readonly leasesByBox = new Map<string, Map<string, LiveLease>>();
  private readonly leaseBoxes = new Map<string, string>();
  private readonly sessions = new Map<string, LiveSession>();
  private readonly sessionsByBox = new Map<string, Map<string, LiveSession>>();
  private readonly sessionsByUser = new Map<string, Set<string>>();
  private readonly sessionOnSpot = new Map<string, string>();
  private readonly released = new Ended();
  private readonly ended = new Ended();

  /** Idempotent, and anything released or ended stays so, in whatever order the events come. */
  apply({ type, data }: LiveViewEvent): void {
    switch (type) {
      case PortLeased.type: {
        const { leaseId, userId, username, boxId, tunnelHost, port, expiresAt, private: isPrivate } = data as EventData<typeof PortLeased>;
        this.addLease({ leaseId, userId, username, boxId: boxId ?? tunnelHost, tunnelHost, port, private: isPrivate === true, expiresAt });
        return;
      }
      case PortReleased.type:
        this.releaseLease((data as EventData<typeof PortReleased>).leaseId);
        return;
      case SessionDeclared.type: {
        const { sessionId, host, guests, boxId, tunnelHost, port } = data as EventData<typeof SessionDeclared>;
        this.addSession({ sessionId, hostUserId: host.userId, guestUserIds: guests.map((guest) => guest.userId), boxId: boxId ?? tunnelHost, port });
        return;
      }
      case SessionMoved.type: {
        const { sessionId, host, guests, to } = data as EventData<typeof SessionMoved>;
        this.addSession({ sessionId, hostUserId: host.userId, guestUserIds: guests.map((guest) => guest.userId), boxId: to.boxId, port: to.port });
        return;
      }
      case SessionEnded.type:
        this.endSession((data as EventData<typeof SessionEnded>).sessionId);
    }
  }

  addLease(lease: LiveLease): void {
    if (this.released.has(lease.leaseId)) return;
    this.leaseBoxes.set(lease.leaseId, lease.boxId);
    mapIn(this.leasesByBox, lease.boxId).set(lease.leaseId, lease);
  }

  releaseLease(leaseId: string): void {
    this.released.add(leaseId);
    const boxId = this.leaseBoxes.get(leaseId);
    if (boxId === undefined) return;
    this.leaseBoxes.delete(leaseId);
    this.leasesByBox.get(boxId)?.delete(leaseId);
  }

  /** Declares, or moves a session to where it now is. */
  addSession(session: LiveSession): void {
    if (this.ended.has(session.sessionId)) return;
    this.dropSession(session.sessionId);
    this.sessions.set(session.sessionId, session);
    mapIn(this.sessionsByBox, session.boxId).set(session.sessionId, session);
    this.sessionOnSpot.set(spot(session.boxId, session.port), session.sessionId);
    for (const userId of [session.hostUserId, ...session.guestUserIds]) {
      const ids = this.sessionsByUser.get(userId) ?? new Set<string>();
      this.sessionsByUser.set(userId, ids.add(session.sessionId));
    }
  }

  endSession(sessionId: string): void {
    this.ended.add(sessionId);
    this.dropSession(sessionId);
  }

  private dropSession(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    this.sessionsByBox.get(session.boxId)?.delete(sessionId);
    if (this.sessionOnSpot.get(spot(session.boxId, session.port)) === sessionId) this.sessionOnSpot.delete(spot(session.boxId, session.port));
    for (const userId of [session.hostUserId, ...session.guestUserIds]) {
      const ids = this.sessionsByUser.get(userId);
      ids?.delete(sessionId);
      if (ids?.size === 0) this.sessionsByUser.delete(userId);
    }
  }

  /** The sessions the user hosts or may join. */
  sessionIdsOf(userId: string): string[] {
    return [...(this.sessionsByUser.get(userId) ?? [])];
  }

  /** The session on this port of this box, if one is live there. */
  sessionOn(boxId: string, port: number): string | undefined {
    return this.sessionOnSpot.get(spot(boxId, port));
  }

  /** The leases whose time to be declared on ran out before `now`. */
  dueLeases(now: Date): LiveLease[] {
    const due: LiveLease[] = [];
    for (const leases of this.leasesByBox.values()) {
      for (const lease of leases.values()) if (Date.parse(lease.expiresAt) <= now.getTime()) due.push(lease);
    }
    return due;
  }

  takenPorts(boxId: string): Set<number> {
    return new Set([...(this.leasesByBox.get(boxId)?.values() ?? [])].map((lease) => lease.port));
  }

  leasesOn(boxId: string, after: string | undefined, limit: number): Page<LiveLease> {
    return page(this.leasesByBox.get(boxId), after, limit);
  }

  sessionsOn(boxId: string, after: string | undefined, limit: number): Page<LiveSession> {
    return page(this.sessionsByBox.get(boxId), after, limit);
  }
}

function mapIn<T>(maps: Map<string, Map<string, T>>, key: string): Map<string, T> {
  const found = maps.get(key) ?? new Map<string, T>();
  maps.set(key, found);
  return found;
}

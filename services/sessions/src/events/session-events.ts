import { createEnvelope, PortLeased, PortReleased, SessionDeclared, SessionEnded, SessionMoved, type EventData } from '@tmuxme/events';
import type { SessionDocument } from '../model/session.js';
import { joinCommands } from '../domain/join-commands.js';

/** What sessions publishes; each envelope is stored with the lease, session or ending document it describes. */
const producer = 'sessions';

export interface LeaseRef {
  leaseId: string;
  userId: string;
  username: string;
  boxId: string;
  tunnelHost: string;
  port: number;
}

export type EndReason = EventData<typeof SessionEnded>['reason'];

/** A session as declared or moved: on a known box, whose key came with the lease. */
type Session = Pick<SessionDocument, '_id' | 'host' | 'guests' | 'tunnelHost' | 'tunnelPort' | 'port' | 'hostKey' | 'hostKeyFingerprint'>
  & { boxId: string; private: boolean; tunnelHostKey?: string | null };

/** What guests need of a session: who hosts it, who may join, and the commands to join it with. */
const sessionData = (session: Session) => ({
  sessionId: session._id.toString(),
  host: { userId: session.host.userId, username: session.host.username },
  guests: session.guests.map(({ userId, username, access }) => ({ userId, username, access })),
  boxId: session.boxId,
  private: session.private,
  ...joinCommands(session),
  ...(session.hostKeyFingerprint ? { hostKeyFingerprint: session.hostKeyFingerprint } : {}),
});

export const portLeased = (lease: Omit<LeaseRef, 'leaseId'> & { _id: unknown; expiresAt: Date; private: boolean }, requestId?: string) => createEnvelope(PortLeased, {
  leaseId: String(lease._id), userId: lease.userId, username: lease.username, boxId: lease.boxId, tunnelHost: lease.tunnelHost, port: lease.port,
  expiresAt: lease.expiresAt.toISOString(), private: lease.private,
}, { producer, requestId });

export const portReleased = (lease: LeaseRef, requestId?: string) => createEnvelope(PortReleased, {
  leaseId: lease.leaseId, userId: lease.userId, username: lease.username, boxId: lease.boxId, tunnelHost: lease.tunnelHost, port: lease.port,
}, { producer, requestId });

export const sessionDeclared = (session: Session, requestId?: string) => createEnvelope(SessionDeclared, {
  ...sessionData(session), tunnelHost: session.tunnelHost, tunnelPort: session.tunnelPort, port: session.port,
}, { producer, requestId });

/** `moved` is the session on its new box; `from` where it was. */
export const sessionMoved = (moved: Session, from: { boxId: string; tunnelHost: string; port: number }, requestId?: string) => createEnvelope(SessionMoved, {
  ...sessionData(moved),
  from,
  to: { boxId: moved.boxId, tunnelHost: moved.tunnelHost, tunnelPort: moved.tunnelPort, port: moved.port },
}, { producer, requestId });

export const sessionEnded = (sessionId: string, boxId: string, reason: EndReason, requestId?: string) =>
  createEnvelope(SessionEnded, { sessionId, boxId, reason }, { producer, requestId });

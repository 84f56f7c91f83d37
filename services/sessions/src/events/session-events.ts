import { createEnvelope, PortLeased, PortReleased, SessionDeclared, SessionEnded, type EventData } from '@tmuxme/events';
import type { SessionDocument } from '../model/session.js';
import { joinCommands } from '../domain/join-commands.js';

/** What sessions publishes; each envelope is stored with the lease, session or ending document it describes. */
const producer = 'sessions';

export interface LeaseRef {
  leaseId: string;
  userId: string;
  username: string;
  tunnelHost: string;
  port: number;
}

export type EndReason = EventData<typeof SessionEnded>['reason'];

/** A session as declared: its box's key is known by then (from the lease, or the box's configuration). */
type Session = Pick<SessionDocument, '_id' | 'host' | 'guests' | 'tunnelHost' | 'tunnelPort' | 'port' | 'hostKey' | 'hostKeyFingerprint'>
  & { private: boolean; tunnelHostKey: string };

export const portLeased = (lease: Omit<LeaseRef, 'leaseId'> & { _id: unknown; expiresAt: Date; private: boolean }, requestId?: string) => createEnvelope(PortLeased, {
  leaseId: String(lease._id), userId: lease.userId, username: lease.username, tunnelHost: lease.tunnelHost, port: lease.port,
  expiresAt: lease.expiresAt.toISOString(), private: lease.private,
}, { producer, requestId });

export const portReleased = (lease: LeaseRef, requestId?: string) => createEnvelope(PortReleased, {
  leaseId: lease.leaseId, userId: lease.userId, username: lease.username, tunnelHost: lease.tunnelHost, port: lease.port,
}, { producer, requestId });

export const sessionDeclared = (session: Session, requestId?: string) => createEnvelope(SessionDeclared, {
  sessionId: session._id.toString(),
  host: { userId: session.host.userId, username: session.host.username },
  guests: session.guests.map(({ userId, username, access }) => ({ userId, username, access })),
  tunnelHost: session.tunnelHost,
  tunnelPort: session.tunnelPort,
  port: session.port,
  private: session.private,
  ...joinCommands(session),
  ...(session.hostKeyFingerprint ? { hostKeyFingerprint: session.hostKeyFingerprint } : {}),
}, { producer, requestId });

export const sessionEnded = (sessionId: string, reason: EndReason, requestId?: string) =>
  createEnvelope(SessionEnded, { sessionId, reason }, { producer, requestId });

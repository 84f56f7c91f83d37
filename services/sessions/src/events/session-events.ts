import { createEnvelope, PortLeased, PortReleased, SessionDeclared, SessionEnded, type EventData } from '@tmuxme/events';
import type { SessionDocument } from '../model/session.js';
import { joinCommand, pinnedJoinCommand } from '../domain/join-commands.js';

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

type Session = Pick<SessionDocument, '_id' | 'host' | 'guests' | 'tunnelHost' | 'port' | 'hostKey' | 'hostKeyFingerprint'>;

export const portLeased = (lease: Omit<LeaseRef, 'leaseId'> & { _id: unknown; expiresAt: Date }, requestId?: string) => createEnvelope(PortLeased, {
  leaseId: String(lease._id), userId: lease.userId, username: lease.username, tunnelHost: lease.tunnelHost, port: lease.port,
  expiresAt: lease.expiresAt.toISOString(),
}, { producer, requestId });

export const portReleased = (lease: LeaseRef, requestId?: string) => createEnvelope(PortReleased, {
  leaseId: lease.leaseId, userId: lease.userId, username: lease.username, tunnelHost: lease.tunnelHost, port: lease.port,
}, { producer, requestId });

export const sessionDeclared = (session: Session, requestId?: string) => createEnvelope(SessionDeclared, {
  sessionId: session._id.toString(),
  host: { userId: session.host.userId, username: session.host.username },
  guests: session.guests.map(({ username, access }) => ({ username, access })),
  tunnelHost: session.tunnelHost,
  port: session.port,
  joinCommand: joinCommand(session),
  ...(session.hostKey ? { hostKeyFingerprint: session.hostKeyFingerprint!, pinnedJoinCommand: pinnedJoinCommand(session, session.hostKey) } : {}),
}, { producer, requestId });

export const sessionEnded = (sessionId: string, reason: EndReason, requestId?: string) =>
  createEnvelope(SessionEnded, { sessionId, reason }, { producer, requestId });

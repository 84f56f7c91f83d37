import { Type } from 'typebox';
import { defineEvent, type EventContract } from './envelope.js';

const Username = Type.String({ minLength: 1, maxLength: 39 });
const Id = Type.String({ minLength: 1 });
const Access = Type.Union([Type.Literal('rw'), Type.Literal('ro')]);

export const UserRegistered = defineEvent('UserRegistered', 1, Type.Object({
  userId: Id, username: Username, email: Type.String(),
}));

export const UserUpdated = defineEvent('UserUpdated', 1, Type.Object({
  userId: Id, username: Username, email: Type.String(),
}));

export const UserDeleted = defineEvent('UserDeleted', 1, Type.Object({
  userId: Id, username: Username,
}));

export const KeyAdded = defineEvent('KeyAdded', 1, Type.Object({
  keyId: Id, userId: Id, username: Username, type: Type.String(), key: Type.String(), fingerprint: Type.String(),
}));

export const KeyRemoved = defineEvent('KeyRemoved', 1, Type.Object({
  keyId: Id, userId: Id, username: Username, fingerprint: Type.String(),
}));

export const PortLeased = defineEvent('PortLeased', 1, Type.Object({
  leaseId: Id, userId: Id, username: Username, tunnelHost: Type.String(), port: Type.Integer(), expiresAt: Type.String(),
}));

export const PortReleased = defineEvent('PortReleased', 1, Type.Object({
  leaseId: Id, userId: Id, username: Username, tunnelHost: Type.String(), port: Type.Integer(),
}));

export const SessionDeclared = defineEvent('SessionDeclared', 1, Type.Object({
  sessionId: Id,
  host: Type.Object({ userId: Id, username: Username }),
  guests: Type.Array(Type.Object({ username: Username, access: Access })),
  tunnelHost: Type.String(),
  port: Type.Integer(),
  joinCommand: Type.String(),
  hostKeyFingerprint: Type.Optional(Type.String()),
  /** The join command with the declared host key pinned, so a guest never trusts an unknown key. */
  pinnedJoinCommand: Type.Optional(Type.String()),
}));

export const SessionEnded = defineEvent('SessionEnded', 1, Type.Object({
  sessionId: Id,
  reason: Type.Union([Type.Literal('ended'), Type.Literal('expired'), Type.Literal('account-deleted')]),
}));

export const allEvents: readonly EventContract[] = [
  UserRegistered, UserUpdated, UserDeleted, KeyAdded, KeyRemoved, PortLeased, PortReleased, SessionDeclared, SessionEnded,
];

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
  /**
   * A private lease may only be bound to the box's loopback (its host logs in as the box's private
   * tunnel user), so guests reach it through the jump user alone. Absent in events from before it existed.
   */
  private: Type.Optional(Type.Boolean()),
}));

export const PortReleased = defineEvent('PortReleased', 1, Type.Object({
  leaseId: Id, userId: Id, username: Username, tunnelHost: Type.String(), port: Type.Integer(),
}));

export const SessionDeclared = defineEvent('SessionDeclared', 1, Type.Object({
  sessionId: Id,
  host: Type.Object({ userId: Id, username: Username }),
  /** `userId` lets a tunnel box admit the guests' keys through its jump user; usernames can be taken again. */
  guests: Type.Array(Type.Object({ userId: Id, username: Username, access: Access })),
  tunnelHost: Type.String(),
  /** The box's own SSH port: the only one a guest on the jump path needs to reach. */
  tunnelPort: Type.Integer(),
  port: Type.Integer(),
  /** Bound to the box's loopback: guests can join through the jump user only. */
  private: Type.Boolean(),
  /** What a guest runs; for a private session, the same as `jumpJoinCommand`. */
  joinCommand: Type.String(),
  /** Through the box's SSH port (`ssh -J join@box …`), for guests whose network lets only that port out. */
  jumpJoinCommand: Type.String(),
  hostKeyFingerprint: Type.Optional(Type.String()),
  /** The join command with the declared host key pinned, so a guest never trusts an unknown key. */
  pinnedJoinCommand: Type.Optional(Type.String()),
  /** The jump command with both the box's and the host's keys pinned. */
  pinnedJumpJoinCommand: Type.Optional(Type.String()),
}));

export const SessionEnded = defineEvent('SessionEnded', 1, Type.Object({
  sessionId: Id,
  reason: Type.Union([Type.Literal('ended'), Type.Literal('expired'), Type.Literal('account-deleted')]),
}));

export const allEvents: readonly EventContract[] = [
  UserRegistered, UserUpdated, UserDeleted, KeyAdded, KeyRemoved, PortLeased, PortReleased, SessionDeclared, SessionEnded,
];

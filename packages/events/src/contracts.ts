import { Type } from 'typebox';
import { defineEvent, type EventContract } from './envelope.js';

const Username = Type.String({ minLength: 1, maxLength: 39 });
const Id = Type.String({ minLength: 1 });
const Access = Type.Union([Type.Literal('rw'), Type.Literal('ro')]);
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
/**
 * A tunnel box's id: events about one box travel under a routing key that ends with it, and it names the box's
 * queue. Lower-case letters, digits, dots and dashes, like a host name, so it is never a wildcard in a binding.
 */
export const boxIdPattern = '^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$';
const BoxId = Type.String({ pattern: boxIdPattern });
/** In events from before there were many boxes it is absent: the box is then the one named `tunnelHost`. */
const OptionalBoxId = Type.Optional(BoxId);
const Guests = Type.Array(Type.Object({ userId: Id, username: Username, access: Access }));

/** The commands a guest joins a session with, as the sessions service makes them. */
const JoinCommands = {
  /** What a guest runs; for a private session, the same as `jumpJoinCommand`. */
  joinCommand: Type.String(),
  /** Through the box's SSH port (`ssh -J join@box …`), for guests whose network lets only that port out. */
  jumpJoinCommand: Type.String(),
  hostKeyFingerprint: Type.Optional(Type.String()),
  /** The join command with the declared host key pinned, so a guest never trusts an unknown key. */
  pinnedJoinCommand: Type.Optional(Type.String()),
  /** The jump command with both the box's and the host's keys pinned. */
  pinnedJumpJoinCommand: Type.Optional(Type.String()),
};

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
  leaseId: Id, userId: Id, username: Username, boxId: OptionalBoxId, tunnelHost: Type.String(), port: Type.Integer(), expiresAt: Type.String(),
  /**
   * A private lease may only be bound to the box's loopback (its host logs in as the box's private
   * tunnel user), so guests reach it through the jump user alone. Absent in events from before it existed.
   */
  private: Type.Optional(Type.Boolean()),
}), { perBox: true });

export const PortReleased = defineEvent('PortReleased', 1, Type.Object({
  leaseId: Id, userId: Id, username: Username, boxId: OptionalBoxId, tunnelHost: Type.String(), port: Type.Integer(),
}), { perBox: true });

export const SessionDeclared = defineEvent('SessionDeclared', 1, Type.Object({
  sessionId: Id,
  host: Type.Object({ userId: Id, username: Username }),
  /** `userId` lets a tunnel box admit the guests' keys through its jump user; usernames can be taken again. */
  guests: Guests,
  boxId: OptionalBoxId,
  tunnelHost: Type.String(),
  /** The box's own SSH port: the only one a guest on the jump path needs to reach. */
  tunnelPort: Type.Integer(),
  port: Type.Integer(),
  /** Bound to the box's loopback: guests can join through the jump user only. */
  private: Type.Boolean(),
  ...JoinCommands,
}), { perBox: true });

export const SessionEnded = defineEvent('SessionEnded', 1, Type.Object({
  sessionId: Id,
  /** The box the session was on when it ended. */
  boxId: OptionalBoxId,
  reason: Type.Union([Type.Literal('ended'), Type.Literal('expired'), Type.Literal('account-deleted')]),
}), { perBox: true });

/**
 * The host's tunnel box stopped answering, so the host leased a port on another box and moved the session
 * there: same id, same guests, a new box and port. Routed to the new box (`boxId`), which admits the guests;
 * the old box learns of it from the PortReleased of the old lease.
 */
export const SessionMoved = defineEvent('SessionMoved', 1, Type.Object({
  sessionId: Id,
  host: Type.Object({ userId: Id, username: Username }),
  guests: Guests,
  /** The box the session is on now. */
  boxId: BoxId,
  private: Type.Boolean(),
  from: Type.Object({ boxId: BoxId, tunnelHost: Type.String(), port: Port }),
  to: Type.Object({ boxId: BoxId, tunnelHost: Type.String(), tunnelPort: Port, port: Port }),
  /** The session's commands on its new box. */
  ...JoinCommands,
}), { perBox: true });

/**
 * A tunnel box's tunnel-sync says, every few seconds, that the box is up and what it offers. sessions
 * places new leases on the boxes it has heard from lately; a box that falls silent is out of rotation.
 */
export const TunnelBoxHeartbeat = defineEvent('TunnelBoxHeartbeat', 1, Type.Object({
  boxId: BoxId,
  /** The box's name as guests and hosts reach it; it goes into join commands. */
  tunnelHost: Type.String({ minLength: 1, maxLength: 253 }),
  /** The box's own sshd port: where hosts open their tunnels and guests take the jump path. */
  tunnelPort: Port,
  /** The box's SSH host public key, `type base64`, handed to hosts with each lease for pinning. */
  hostKey: Type.String({ minLength: 1, maxLength: 16_384 }),
  /** The ports leased on this box, both ends included. */
  portRange: Type.Object({ from: Port, to: Port }),
  /** Leases the box holds now. */
  liveLeases: Type.Integer({ minimum: 0 }),
  /** The operator is taking the box out: it gets no new leases, and its sessions go on. */
  draining: Type.Boolean(),
  /** When the box said it (ISO 8601). */
  at: Type.String(),
}), { perBox: true });

export const allEvents: readonly EventContract[] = [
  UserRegistered, UserUpdated, UserDeleted, KeyAdded, KeyRemoved, PortLeased, PortReleased, SessionDeclared, SessionEnded,
  SessionMoved, TunnelBoxHeartbeat,
];

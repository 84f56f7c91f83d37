// Declarations only (a .d.ts): a client imports them with `import type`, and its build emits nothing of this
// package. The shapes follow the sessions service's route schemas (services/sessions/src/routes/sessions.ts).

export type GuestAccess = 'rw' | 'ro';

/** A pairing session as `GET /api/v1/pairing/sessions` shows it to its host or one of its guests. */
export interface PairingSession {
  id: string;
  role: 'host' | 'guest';
  host: { username: string };
  port: number;
  /** The tunnel box the session is on; it changes when the host moves the session to another box. Absent from older servers. */
  boxId?: string;
  tunnelHost: string;
  /** The box's own SSH port: all a guest on the jump path needs to reach. */
  tunnelPort: number;
  /** The port answers on the box's loopback only: guests join through its SSH port, invited ones alone. */
  private: boolean;
  guests: { username: string; access: GuestAccess }[];
  /** Straight to the leased port; for a private session the same as `jumpJoinCommand`. */
  joinCommand: string;
  /** Through the box's own SSH port as the jump user `join`, for networks that let only a few ports out. */
  jumpJoinCommand: string;
  /** The box's host key (`<type> <base64>`), so the jump hop can be pinned too. */
  tunnelHostKey?: string;
  /** The host's SSH host key (`<type> <base64>`), when the host declared one. */
  hostKey?: string;
  hostKeyFingerprint?: string;
  /** Present when the host declared its SSH host key; it carries that key inline. */
  pinnedJoinCommand?: string;
  /** The jump command with both the box's and the host's keys pinned. */
  pinnedJumpJoinCommand?: string;
  createdAt: string;
  expiresAt: string;
}

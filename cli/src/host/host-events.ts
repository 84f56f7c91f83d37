import type { GuestAccess } from '../lib/api-client.js';

/** Everything that happens before guests can join, in the order the screen lists it (several run at once: HostFlow). */
export const hostSteps = [
  { id: 'local-user', title: 'Local tmuxme user' },
  { id: 'guest-keys', title: "Fetch the guests' keys" },
  { id: 'authorized-keys', title: 'Let the guests in (authorized_keys)' },
  { id: 'lease', title: 'Lease a port on the tunnel box' },
  { id: 'tunnel', title: 'Open the reverse tunnel' },
  { id: 'tmux', title: 'Start tmux' },
  { id: 'declare', title: 'Declare the session and mail the guests' },
] as const;

export type StepId = (typeof hostSteps)[number]['id'];

/** Embedded mode has neither a local tmuxme user nor an authorized_keys: its steps say what it does instead. */
const embeddedTitles: Partial<Record<StepId, string>> = {
  'local-user': 'Host key and a private tmux',
  'authorized-keys': 'Let the guests in (keys served by tmuxme)',
};

/** `embedded`: tmuxme serves the guests' SSH itself (no root, no sshd); `system-sshd`: the seed's way. */
export type HostMode = 'embedded' | 'system-sshd';

export function stepTitle(id: StepId, mode: HostMode = 'system-sshd'): string {
  return (mode === 'embedded' ? embeddedTitles[id] : undefined) ?? hostSteps.find((step) => step.id === id)!.title;
}
export type StepStatus = 'pending' | 'running' | 'done' | 'failed';

export interface Guest {
  username: string;
  access: GuestAccess;
}

export interface ConnectedGuest {
  /** Undefined when the client cannot be tied to an invitation (it still counts as connected). */
  username?: string;
  readOnly: boolean;
  since: Date;
  /** Set where the backend can disconnect this guest by it. */
  connectionId?: string;
}

/** Tells one connection from another: by its id, else by who it is and when it came. */
export const connectionKey = (guest: ConnectedGuest): string => guest.connectionId ?? `${guest.username ?? ''}@${guest.since.getTime()}`;

export interface ReadySession {
  id: string;
  /** Reachable only through the box's SSH port: show the jump commands alone. */
  private: boolean;
  joinCommand: string;
  pinnedJoinCommand?: string;
  /** Through the box's SSH port as its jump user, for guests whose network lets only that port out. */
  jumpJoinCommand: string;
  pinnedJumpJoinCommand?: string;
  hostKeyFingerprint?: string;
  guests: Guest[];
  /** How the host attaches: `tmux -S <socket> attach-session`. */
  attachCommand: string[];
}

/** Where guests reach the session: a port on a tunnel box. */
export interface SessionPlace {
  tunnelHost: string;
  port: number;
}

/** What the host flow reports, for the TUI, the `--no-tui` lines and the `--json` stream alike. */
export type HostEvent =
  | { type: 'step'; id: StepId; status: StepStatus; at: number; detail?: string }
  | { type: 'mode'; mode: HostMode; reason: string }
  /** `quiet`: for the run log, `--no-tui` and `--json` alone, not the screen (a guest's refused variable, say). */
  | { type: 'notice'; message: string; quiet?: boolean }
  | { type: 'ready'; session: ReadySession }
  /** Its box stopped answering, so the session moved to another, at `at`: `session` has the new join commands, which the guests were mailed. */
  | { type: 'moved'; session: ReadySession; from: SessionPlace; to: SessionPlace; at: number }
  | { type: 'guests'; connected: ConnectedGuest[] }
  /** One guest came or went, at `at` (ms since the epoch); a `guests` event with the whole list follows. */
  | { type: 'guest'; change: 'connected' | 'left'; guest: ConnectedGuest; at: number }
  | { type: 'ending'; reason: string }
  /** `keptTmux`: with --keep-tmux, the shell command that attaches to the tmux session left running. */
  | { type: 'ended'; reason: string; problems: string[]; keptTmux?: string };

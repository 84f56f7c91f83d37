import type { GuestAccess } from '../lib/api-client.js';

/** The seed's steps, in order: everything that happens before guests can join. */
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
}

export interface ReadySession {
  id: string;
  joinCommand: string;
  pinnedJoinCommand?: string;
  hostKeyFingerprint?: string;
  guests: Guest[];
  /** How the host attaches: `tmux -S <socket> attach-session`. */
  attachCommand: string[];
}

/** What the host flow reports, for the TUI, the `--no-tui` lines and the `--json` stream alike. */
export type HostEvent =
  | { type: 'step'; id: StepId; status: StepStatus; at: number; detail?: string }
  | { type: 'notice'; message: string }
  | { type: 'ready'; session: ReadySession }
  | { type: 'guests'; connected: ConnectedGuest[] }
  | { type: 'ending'; reason: string }
  | { type: 'ended'; reason: string; problems: string[] };

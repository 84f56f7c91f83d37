import type { PortLease, PublicKey } from '../lib/api-client.js';
import type { ConnectedGuest, Guest } from './host-events.js';

export interface GuestKeys extends Guest {
  keys: PublicKey[];
}

export interface OpenTunnel {
  /** Settles when the tunnel drops by itself (never after `close`). */
  dropped: Promise<Error>;
  close(): Promise<void>;
}

/**
 * What the host flow needs from the machine it runs on. The seed way (the system's sshd,
 * a `tmuxme` user, `ssh -R`) is one backend; a backend is one thing to swap, not a flow to copy.
 */
export interface HostBackend {
  /** Makes sure guests have a local account to arrive as; `explain` says why before asking for privileges. */
  ensureGuestUser(explain: (why: string) => void): Promise<string>;
  admitGuests(guests: GuestKeys[]): Promise<void>;
  /** Removes exactly what `admitGuests` added. */
  dismissGuests(): Promise<void>;
  /** `readyTimeoutMs`: how long the box gets to set up the forward (the backend's default if absent). */
  openTunnel(lease: PortLease, options?: { readyTimeoutMs?: number }): Promise<OpenTunnel>;
  startTmux(): Promise<void>;
  tmuxRunning(): Promise<boolean>;
  /** Settles when tmux ends, where the backend hears of it at once (else the flow's poll notices). */
  tmuxEnded?(): Promise<void>;
  connectedGuests(): Promise<ConnectedGuest[]>;
  /** Calls `changed` as soon as a guest connects or leaves, where the backend hears of it (else the flow's poll notices). */
  watchGuests?(changed: () => void): void;
  /** Ends one guest's connection, by the `connectionId` of `connectedGuests`; false if it is gone already. */
  disconnectGuest?(connectionId: string): Promise<boolean>;
  stopTmux(): Promise<void>;
  /**
   * Leaves tmux running for the host alone: guests lose their way in and are detached, and later runs leave it be.
   * Resolves with the argv that attaches to it, or undefined (and cleans up as stopTmux) if it had ended.
   */
  keepTmux(): Promise<string[] | undefined>;
  /** argv that attaches the host's terminal to the pairing session. */
  attachCommand(): string[];
  /** The public key guests will see when they reach us, declared so their join command can pin it. */
  hostKey(): Promise<string | undefined>;
  /** Undoes what a run that died left behind (its pid is gone). */
  cleanUpDeadRuns(): Promise<string[]>;
}

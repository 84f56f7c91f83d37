import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkNamespace } from '@tmuxme/testing';
import { guestJoinCommand, type Person } from '@tmuxme/e2e';

/** `-tt`: a pty at the far end, as a guest's terminal gets; `-e none`: every byte goes through. */
export const attachOptions = ['-tt', '-e', 'none'];

/**
 * A guest's ssh with a pinned join command, and its output read as it comes (ns undefined: this
 * machine's). ssh runs in a terminal of its own, 80×24, as a guest's does (with pipes it would ask for
 * a pty of unknown size). Every path gets the same, so the pty hop adds alike to all of them.
 */
export class GuestSsh {
  readonly closed: Promise<void>;
  private readonly child: ChildProcess;
  private seen = '';
  private onOutput: (() => void) | undefined;

  constructor(ns: NetworkNamespace | undefined, guest: Person, pinned: string, options: string[]) {
    // Through script's shell: the pinned command carries quotes. `exec` leaves ssh itself as script's child.
    const args = ['-qfec', `stty cols 80 rows 24 && exec ${guestJoinCommand(pinned, guest, ['-o', 'BatchMode=yes', ...options])}`, '/dev/null'];
    const settings = { env: { PATH: process.env.PATH, HOME: guest.home, TERM: 'xterm-256color' }, stdio: 'pipe' as const };
    this.child = ns ? ns.spawn('script', args, settings) : spawn('script', args, settings);
    // stderr too: where the far end's complaints (and ssh's own) arrive.
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        this.seen = (this.seen + chunk.toString('latin1')).slice(-4096);
        this.onOutput?.();
      });
    }
    this.closed = new Promise((done) => this.child.once('close', () => done()));
  }

  /** The last few KiB it printed, for an error message. */
  get output(): string {
    return this.seen;
  }

  /** True once `text` has shown, false if ssh ended first. */
  shows(text: string): Promise<boolean> {
    const found = new Promise<boolean>((done) => {
      this.onOutput = () => { if (this.seen.includes(text)) done(true); };
      this.onOutput();
    });
    return Promise.race([found, this.closed.then(() => this.seen.includes(text))]);
  }

  /** µs from writing `byte` to seeing it come back. */
  echo(byte: string): Promise<number> {
    this.seen = '';
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no echo of ${JSON.stringify(byte)} within 5 s`)), 5_000);
      const start = performance.now();
      this.onOutput = () => {
        if (!this.seen.includes(byte)) return;
        const took = (performance.now() - start) * 1000;
        this.onOutput = undefined;
        clearTimeout(timer);
        done(took);
      };
      this.child.stdin!.write(byte);
    });
  }

  /** Writes bytes untimed, and lets whatever they cause go by. */
  async send(bytes: string, settleMs: number): Promise<void> {
    this.child.stdin!.write(bytes);
    await sleep(settleMs);
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
    await this.closed;
  }
}

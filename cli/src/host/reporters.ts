import { joinChoices } from '../lib/join-commands.js';
import { stepTitle, type ConnectedGuest, type HostEvent, type HostMode } from './host-events.js';
import { clock } from './host-view.js';

type Write = (line: string) => void;

const marks = { running: '..', done: 'ok', failed: 'failed' } as const;
/** How the line for the start of the end begins: the run log finds it by this. */
export const endingPrefix = 'Ending the session: ';
const clientName = (client: ConnectedGuest) => client.username ?? 'an unknown terminal';

/** `--no-tui`: one plain line per thing that happened, for logs and scripts that read text. */
export function lineReporter(write: Write): (event: HostEvent) => void {
  const started = new Map<string, number>();
  let mode: HostMode | undefined;
  return (event) => {
    switch (event.type) {
      case 'step': {
        if (event.status === 'pending') return;
        if (event.status === 'running') started.set(event.id, event.at);
        const took = event.status === 'running' ? '' : ` (${((event.at - (started.get(event.id) ?? event.at)) / 1000).toFixed(1)} s)`;
        return write(`[${marks[event.status]}] ${stepTitle(event.id, mode)}${took}${event.detail ? `: ${event.detail}` : ''}`);
      }
      case 'mode':
        mode = event.mode;
        return write(`mode: ${event.reason}`);
      case 'notice':
        return write(`note: ${event.message}`);
      case 'ready': {
        const { session } = event;
        const { command, pinned, viaSshPort, privateReason } = joinChoices(session);
        if (privateReason) write(privateReason);
        write(`Guests join with: ${command}`);
        if (session.hostKeyFingerprint) write(`Host key: ${session.hostKeyFingerprint}`);
        if (pinned) write(`Pinned: ${pinned}`);
        if (viaSshPort) write(`Through the box's SSH port: ${viaSshPort.command}`);
        if (viaSshPort?.pinned) write(`Pinned, through the SSH port: ${viaSshPort.pinned}`);
        return write(`Invited: ${session.guests.map((g) => `${g.username}${g.access === 'ro' ? ' (read-only)' : ''}`).join(', ')}`);
      }
      case 'moved':
        return write(`Moved to ${event.to.tunnelHost} port ${event.to.port}; the guests were mailed the new command: ${joinChoices(event.session).command}`);
      case 'guest': {
        const { guest } = event;
        return write(event.change === 'connected'
          ? `${clientName(guest)} connected (${guest.readOnly ? 'read-only' : 'may type'}) at ${clock(event.at)}`
          : `${clientName(guest)} left at ${clock(event.at)}`);
      }
      case 'guests':
        return;
      case 'ending':
        return write(`${endingPrefix}${event.reason}`);
      case 'ended':
        write(`Session over (${event.reason}).`);
        event.problems.forEach((problem) => write(`problem: ${problem}`));
        if (event.keptTmux) write(`Your tmux session goes on (--keep-tmux); attach to it with: ${event.keptTmux}`);
        return;
    }
  };
}

/** `--json`: every event as one JSON line, as it happens. */
export function jsonReporter(write: Write): (event: HostEvent) => void {
  return (event) => write(JSON.stringify(event));
}

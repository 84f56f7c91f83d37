import { parseArgs } from 'node:util';
import type { HostOutput } from '../host/host-session.js';
import type { Guest } from '../host/host-events.js';
import type { Command } from './command.js';
import { shellQuote } from '../lib/join-ssh.js';
import { runCommand, serverOption, serverUsage, UsageError } from './run-command.js';

const options = {
  ...serverOption,
  'no-tui': { type: 'boolean' },
  json: { type: 'boolean' },
  'no-attach': { type: 'boolean' },
  'system-sshd': { type: 'boolean' },
  'ssh-port': { type: 'string' },
  private: { type: 'boolean' },
  'keep-tmux': { type: 'boolean' },
  identity: { type: 'string', short: 'i' },
} as const;

// GitHub's username rules, as the accounts service applies them.
const guestPattern = /^([a-zA-Z0-9](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){0,38})(?::(ro|rw))?$/;

export const hostCommand: Command = {
  name: 'host',
  summary: 'host a pairing session: `tmuxme alice bob:ro` (the default command)',
  usage: `Usage: tmuxme [host] <guest>[:ro] … [options]

Hosts a tmux session that your guests join over SSH. Each guest gets an e-mail with the
command to join; append :ro to a guest to let them watch without typing.

  tmuxme alice            alice may type
  tmuxme alice bob:ro     bob only watches
  tmuxme --private alice  only alice, and only through the box's SSH port

Guests arrive through the tunnel box at an SSH server inside tmuxme: no root, no sshd, and
nothing listening on this machine. If the tunnel box stops answering, the session moves to
another box and the guests are mailed the new command (it ends if none takes it within about
30 s). Quitting (q, Ctrl-C, or leaving tmux) ends the session and undoes everything it set up;
so do closing the terminal, a dropped SSH connection to this machine, SIGHUP and SIGTERM.
Each run's lines are kept in $XDG_STATE_HOME/tmuxme/last-run.log
(~/.local/state/tmuxme/last-run.log), and the next run says how a run you could not see ended.

  --private           a private session: the box's port answers only on the box itself, so
                      guests come in through the box's SSH port as its jump user, and only
                      the guests invited here (their invitation shows only that command)
  --no-tui            print plain progress lines instead of the interactive screen
  --json              print one JSON event per line (implies --no-tui)
  --no-attach         do not attach this terminal to tmux; run until Ctrl-C or the session ends
  --keep-tmux         when the pairing ends, leave the tmux session running for you alone
                      (guests and tunnel still go) and say how to attach to it
  --system-sshd       let guests reach this machine's sshd instead, as the local user tmuxme
                      (created if missing, as root or through sudo after saying why)
  --ssh-port <port>   with --system-sshd: the port of this machine's sshd (default 22)
  -i, --identity <file>  the private key for the tunnel box (default: ssh's own choice)
${serverUsage}

Exit status: 0 the session ended (you, tmux or the server ended it); 1 it could not be set up;
129 the terminal closed (SIGHUP); 141 the program reading the output went away; 143 SIGTERM.`,
  run: (argv) => runCommand(hostCommand, argv, async () => {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
    if (positionals.length === 0) throw new UsageError('name at least one guest, e.g. `tmuxme alice`');
    if (values['ssh-port'] !== undefined && !values['system-sshd']) throw new UsageError('--ssh-port only applies with --system-sshd');
    const sshPort = Number(values['ssh-port'] ?? 22);
    if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65_535) throw new UsageError(`--ssh-port must be a port number, not "${values['ssh-port']}"`);
    const output: HostOutput = values.json ? 'json' : values['no-tui'] || !process.stdout.isTTY ? 'lines' : 'tui';
    // Loaded only to host: ssh2, the pty and tmux's modules are no part of `--help` or of the other commands.
    const { hostSession } = await import('../host/host-session.js');
    return hostSession({
      guests: parseGuests(positionals), output, attach: !values['no-attach'], systemSshd: values['system-sshd'] ?? false, sshPort,
      private: values.private ?? false, identity: values.identity, server: values.server, keepTmux: values['keep-tmux'] ?? false,
      invocation: ['tmuxme', ...argv].map(shellQuote).join(' '),
    });
  }),
};

export function parseGuests(args: string[]): Guest[] {
  return args.map((arg) => {
    const match = guestPattern.exec(arg);
    if (!match) throw new UsageError(`"${arg}" is not a guest: give a tmux.me username, optionally followed by :ro (watch only) or :rw`);
    return { username: match[1]!.toLowerCase(), access: match[2] === 'ro' ? 'ro' : 'rw' };
  });
}

import { parseArgs } from 'node:util';
import { openAccount } from '../lib/account.js';
import type { PairingSession } from '../lib/api-client.js';
import { joinChoices } from '../lib/join-commands.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage } from './run-command.js';

const options = { ...serverOption, json: { type: 'boolean' } } as const;

export const sessionsCommand: Command = {
  name: 'sessions',
  summary: 'list the live sessions you host or are invited to, with how to join',
  usage: `Usage: tmuxme sessions [--json] [--server <url>]

Lists the pairing sessions that are live now, where you are the host or a guest, with the
commands that join them: straight to the session's port, and through the box's SSH port (for
networks that let only that out). A private session is reachable only the second way.

  --json              print them as JSON
${serverUsage}`,
  run: (argv) => runCommand(sessionsCommand, argv, async () => {
    const { values } = parseArgs({ args: argv, options });
    return listSessions({ server: values.server, json: values.json ?? false });
  }),
};

export async function listSessions({ server, json }: { server?: string; json: boolean }): Promise<number> {
  const { settings, api } = await openAccount({ server });
  const sessions = await api.listSessions();
  if (json) console.log(JSON.stringify(sessions, null, 2));
  else if (sessions.length === 0) console.log(`No live sessions on ${settings.server} where you are the host or a guest.`);
  else console.log(sessions.map(describeSession).join('\n\n'));
  return 0;
}

/** One session as `tmuxme sessions` lists it. */
export function describeSession(session: PairingSession): string {
  const who = session.role === 'host' ? 'you host' : `hosted by ${session.host.username}`;
  const guests = session.guests.map((g) => `${g.username}${g.access === 'ro' ? ' (read-only)' : ''}`).join(', ');
  const { command, pinned, viaSshPort, privateReason } = joinChoices(session);
  return [
    `${session.id}  ${who}, guests: ${guests}  (since ${session.createdAt.slice(0, 16).replace('T', ' ')} UTC)`,
    ...(privateReason ? [`  ${privateReason}`] : []),
    `  join:           tmuxme join ${session.id}`,
    `  without tmuxme: ${pinned ?? command}`,
    ...(viaSshPort ? [`  via SSH port:   ${viaSshPort.pinned ?? viaSshPort.command}`] : []),
    session.hostKeyFingerprint
      ? `  host key:       ${session.hostKeyFingerprint}`
      : '  host key:       not declared (`tmuxme join` needs --insecure-accept-new)',
  ].join('\n');
}

import { parseArgs } from 'node:util';
import { openAccount } from '../lib/account.js';
import type { PairingSession } from '../lib/api-client.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage } from './run-command.js';

const options = { ...serverOption, json: { type: 'boolean' } } as const;

export const sessionsCommand: Command = {
  name: 'sessions',
  summary: 'list the live sessions you host or are invited to, with how to join',
  usage: `Usage: tmuxme sessions [--json] [--server <url>]

Lists the pairing sessions that are live now, where you are the host or a guest.

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

function describeSession(session: PairingSession): string {
  const who = session.role === 'host' ? 'you host' : `hosted by ${session.host.username}`;
  const guests = session.guests.map((g) => `${g.username}${g.access === 'ro' ? ' (read-only)' : ''}`).join(', ');
  return [
    `${session.id}  ${who}, guests: ${guests}  (since ${session.createdAt.slice(0, 16).replace('T', ' ')} UTC)`,
    `  join:           tmuxme join ${session.id}`,
    ...(session.hostKeyFingerprint
      ? [`  without tmuxme: ${session.pinnedJoinCommand ?? session.joinCommand}`, `  host key:       ${session.hostKeyFingerprint}`]
      : [`  without tmuxme: ${session.joinCommand}`, '  host key:       not declared (`tmuxme join` needs --insecure-accept-new)']),
  ].join('\n');
}

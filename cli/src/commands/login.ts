import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { openAccount, rememberLogin } from '../lib/account.js';
import { TmuxmeApi } from '../lib/api-client.js';
import { ask } from '../lib/prompt.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage, UsageError } from './run-command.js';

const options = { ...serverOption, token: { type: 'string' } } as const;

export const loginCommand: Command = {
  name: 'login',
  summary: 'log this machine in (creates an API token named after it)',
  usage: `Usage: tmuxme login [<username or e-mail>] [--server <url>]
       tmuxme login --token <tmx_…> [--server <url>]

With a password (asked for, or piped in as one line), creates an API token named after this
machine and keeps it in the config file; the password itself is never stored.
With --token, checks an API token you already have (e.g. from the web page) and keeps it.

  --token <tmx_…>     use this API token instead of a password
${serverUsage}`,
  run: (argv) => runCommand(loginCommand, argv, async () => {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
    if (positionals.length > 1) throw new UsageError(`expected at most one username or e-mail, got ${positionals.length} arguments`);
    if (values.token !== undefined && positionals.length > 0) throw new UsageError('give either a username (to log in with a password) or --token, not both');
    return login({ server: values.server, login: positionals[0], token: values.token });
  }),
};

export async function login({ server, login, token }: { server?: string; login?: string; token?: string }): Promise<number> {
  const { settings, configFile } = await openAccount({ server });
  let apiToken: string;
  let tokenName: string | undefined;
  let api: TmuxmeApi;
  if (token !== undefined) {
    apiToken = token.trim();
    api = new TmuxmeApi({ server: settings.server, apiToken });
  } else {
    const loginName = login ?? await ask('Username or e-mail: ');
    const password = await ask('Password: ', { hidden: true });
    api = new TmuxmeApi({ server: settings.server });
    await api.login(loginName, password);
    const created = await api.createApiToken(machineTokenName());
    apiToken = created.token;
    tokenName = created.name;
  }
  // Also what proves a given token works: it is exchanged for an access token first.
  const { username } = await api.me();
  await rememberLogin(configFile, { server: settings.server, apiToken, username });
  const how = tokenName ? `a new API token named "${tokenName}"` : 'your API token';
  console.log(`Logged in to ${settings.server} as ${username}, with ${how} (saved in ${configFile}).`);
  return 0;
}

/** The server takes 1 to 100 printable ASCII characters; a host name can hold others. */
function machineTokenName(): string {
  const name = hostname().replace(/[^\x20-\x7e]/g, '-').trim().slice(0, 100);
  return name || 'tmuxme-cli';
}

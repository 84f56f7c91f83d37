import { parseArgs } from 'node:util';
import { openAccount, rememberLogin } from '../lib/account.js';
import { ask } from '../lib/prompt.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage } from './run-command.js';

const options = { ...serverOption, username: { type: 'string' }, email: { type: 'string' } } as const;

export const signupCommand: Command = {
  name: 'signup',
  summary: 'create a tmux.me account and log this machine in',
  usage: `Usage: tmuxme signup [--username <name>] [--email <address>] [--server <url>]

Creates your account and keeps its API token in the config file, so this machine is logged in.
What is not given as a flag is asked for. The password is always asked for (twice), never taken
as a flag, so it stays out of your shell history; piped in, it is one line and then the same again.

  --username <name>   lower-case letters, digits and single hyphens
  --email <address>   where your guests' invitations and account mail go
${serverUsage}`,
  run: (argv) => runCommand(signupCommand, argv, async () => {
    const { values } = parseArgs({ args: argv, options });
    return signup(values);
  }),
};

export async function signup(flags: { server?: string; username?: string; email?: string }): Promise<number> {
  const { settings, configFile, api } = await openAccount(flags);
  const username = flags.username ?? await ask('Username: ');
  const email = flags.email ?? await ask('E-mail: ');
  const password = await ask('Password: ', { hidden: true });
  const passwordConfirmation = await ask('Password (again): ', { hidden: true });
  const created = await api.signup({ username, email, password, passwordConfirmation });
  await rememberLogin(configFile, { server: settings.server, apiToken: created.apiToken, username: created.username });
  console.log([
    `Welcome to ${settings.server}, ${created.username}! This machine is logged in (API token saved in ${configFile}).`,
    'Next: add your SSH public key with `tmuxme keys add`, then invite someone with `tmuxme <their username>`.',
  ].join('\n'));
  return 0;
}

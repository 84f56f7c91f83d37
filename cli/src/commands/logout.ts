import { parseArgs } from 'node:util';
import { forgetLogin, openAccount } from '../lib/account.js';
import { ApiError, type TmuxmeApi } from '../lib/api-client.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage } from './run-command.js';

const options = { ...serverOption, local: { type: 'boolean' } } as const;

export const logoutCommand: Command = {
  name: 'logout',
  summary: "revoke this machine's API token and forget it",
  usage: `Usage: tmuxme logout [--local] [--server <url>]

Revokes the API token this machine uses (it stops working at once, everywhere) and removes it
from the config file.

  --local             only remove it from the config file, without revoking it
                      (when the server cannot be reached; revoke it on the web page later)
${serverUsage}`,
  run: (argv) => runCommand(logoutCommand, argv, async () => {
    const { values } = parseArgs({ args: argv, options });
    return logout({ server: values.server, local: values.local ?? false });
  }),
};

export async function logout({ server, local }: { server?: string; local: boolean }): Promise<number> {
  const { settings, configFile, api } = await openAccount({ server });
  if (!settings.apiToken) {
    console.log(`You are not logged in to ${settings.server}; nothing to do.`);
    return 0;
  }
  const outcome = local ? 'kept on the server' : await revokeOwnToken(api, settings.apiToken);
  if (settings.apiTokenSource === 'file') await forgetLogin(configFile);
  const done = {
    'revoked': `Logged out of ${settings.server}: the API token is revoked`,
    'already invalid': `Logged out of ${settings.server}: the API token had already been revoked`,
    'kept on the server': `Forgot the API token for ${settings.server}; it still works until you revoke it on the web page`,
  }[outcome];
  console.log(settings.apiTokenSource === 'env'
    ? `${done}. It came from TMUXME_TOKEN: unset that variable.`
    : `${done} and removed from ${configFile}.`);
  return 0;
}

/**
 * The token list never holds secrets, only a hint ending in the token's last characters. Should
 * two hints match, ours is the one just used: the exchange that signed this client in touched it.
 */
async function revokeOwnToken(api: TmuxmeApi, apiToken: string): Promise<'revoked' | 'already invalid'> {
  try {
    await api.exchangeApiToken();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'INVALID_API_TOKEN') return 'already invalid';
    throw error;
  }
  const [own] = (await api.listApiTokens())
    .filter((token) => token.hint.endsWith(apiToken.slice(-4)))
    .sort((a, b) => (b.lastUsedAt ?? '').localeCompare(a.lastUsedAt ?? ''));
  if (!own) throw new Error('The server lists no token matching this one; revoke it on the web page, then run `tmuxme logout --local`.');
  await api.revokeApiToken(own.id);
  return 'revoked';
}

import { TmuxmeApi } from './api-client.js';
import { configFilePath, readConfig, resolveSettings, updateConfig, type Settings } from './config.js';

/** Everything a command needs to act for the user: the effective settings, where they live, and a client. */
export interface AccountContext {
  settings: Settings;
  configFile: string;
  /** Signed in with the stored (or TMUXME_TOKEN) API token, if there is one. */
  api: TmuxmeApi;
}

export async function openAccount(flags: { server?: string }, env: Record<string, string | undefined> = process.env): Promise<AccountContext> {
  const configFile = configFilePath(env);
  const settings = resolveSettings({ env, flags, file: await readConfig(configFile) });
  return { settings, configFile, api: new TmuxmeApi({ server: settings.server, apiToken: settings.apiToken }) };
}

/** The server goes in too, so the commands that follow talk to the server this login is for. */
export async function rememberLogin(configFile: string, login: { server: string; apiToken: string; username: string }): Promise<void> {
  await updateConfig(configFile, (current) => ({ ...current, ...login }));
}

export async function forgetLogin(configFile: string): Promise<void> {
  await updateConfig(configFile, ({ apiToken: _apiToken, username: _username, ...rest }) => rest);
}

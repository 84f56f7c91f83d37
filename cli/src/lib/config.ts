import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const defaultServer = 'https://tmux.me';

/** What `tmuxme login` and `tmuxme signup` remember, in `config.json`. */
export interface StoredConfig {
  server?: string;
  apiToken?: string;
  username?: string;
}

/** The settings a command runs with, once the flags, the environment and the file are weighed. */
export interface Settings {
  server: string;
  apiToken?: string;
  /** Where the token came from, so `logout` can tell the user to unset TMUXME_TOKEN. */
  apiTokenSource?: 'env' | 'file';
  username?: string;
}

export interface SettingsSources {
  env: Record<string, string | undefined>;
  flags: { server?: string };
  file: StoredConfig;
}

/** `$XDG_CONFIG_HOME/tmuxme/config.json`, or `~/.config/tmuxme/config.json` (the XDG default). */
export function configFilePath(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'tmuxme', 'config.json');
}

/**
 * `--server` beats `TMUXME_SERVER` beats the file beats https://tmux.me; `TMUXME_TOKEN` beats the file.
 * The file's token and username belong to the file's server: pointed at another server they are
 * left out, so a secret for one server is never sent to another.
 */
export function resolveSettings({ env, flags, file }: SettingsSources): Settings {
  const fileServer = file.server ? normalizeServer(file.server) : defaultServer;
  const server = normalizeServer(flags.server || env.TMUXME_SERVER || fileServer);
  const fileAccount = server === fileServer ? { apiToken: file.apiToken, username: file.username } : {};
  // The environment's token may be another account's, so the file's username does not go with it.
  if (env.TMUXME_TOKEN) return { server, apiToken: env.TMUXME_TOKEN, apiTokenSource: 'env' };
  if (fileAccount.apiToken) return { server, apiToken: fileAccount.apiToken, apiTokenSource: 'file', username: fileAccount.username };
  return { server, username: fileAccount.username };
}

/** `https://tmux.me/` and `https://tmux.me` are one server; anything but an http(s) URL is refused early. */
export function normalizeServer(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`"${server}" is not a server URL; give one like https://tmux.me with --server or TMUXME_SERVER.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`"${server}" is not an http(s) URL; give one like https://tmux.me with --server or TMUXME_SERVER.`);
  }
  return url.toString().replace(/\/+$/, '');
}

export async function readConfig(file: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; fix it, or delete it and run \`tmuxme login\` again.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} should hold a JSON object; fix it, or delete it and run \`tmuxme login\` again.`);
  }
  const { server, apiToken, username } = parsed as Record<string, unknown>;
  return {
    ...(typeof server === 'string' ? { server } : {}),
    ...(typeof apiToken === 'string' ? { apiToken } : {}),
    ...(typeof username === 'string' ? { username } : {}),
  };
}

/**
 * The file holds an API token, so its directory is 0700 and the file 0600 from the first byte.
 * A temp file renamed over the old one means a crash or a full disk never leaves half a config.
 */
export async function writeConfig(file: string, config: StoredConfig): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const temp = join(dir, `.config.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(config, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Read, change, write: for remembering a login or forgetting one while keeping the rest. */
export async function updateConfig(file: string, change: (current: StoredConfig) => StoredConfig): Promise<StoredConfig> {
  const next = change(await readConfig(file));
  await writeConfig(file, next);
  return next;
}

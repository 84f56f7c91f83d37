import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configFilePath, defaultServer, readConfig, resolveSettings, updateConfig, writeConfig } from './config.js';

let home: string;
let env: Record<string, string>;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'tmuxme-config-'));
  env = { HOME: home, XDG_CONFIG_HOME: join(home, 'xdg') };
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('where the config lives', () => {
  it('is under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configFilePath(env)).toBe(join(home, 'xdg', 'tmuxme', 'config.json'));
    expect(configFilePath({ HOME: home })).toBe(join(home, '.config', 'tmuxme', 'config.json'));
    expect(configFilePath({ HOME: home, XDG_CONFIG_HOME: '' })).toBe(join(home, '.config', 'tmuxme', 'config.json'));
  });
});

describe('writing the config', () => {
  it('creates a 0700 directory and a 0600 file, and reads back what it wrote', async () => {
    const file = configFilePath(env);
    await writeConfig(file, { server: 'http://127.0.0.1:8080', apiToken: 'tmx_secret', username: 'alice' });
    expect(await mode(dirname(file))).toBe(0o700);
    expect(await mode(file)).toBe(0o600);
    expect(await readConfig(file)).toEqual({ server: 'http://127.0.0.1:8080', apiToken: 'tmx_secret', username: 'alice' });
  });

  it('tightens a directory someone made too open, and leaves no temp file behind', async () => {
    const file = configFilePath(env);
    await mkdir(dirname(file), { recursive: true });
    await chmod(dirname(file), 0o755);
    await writeConfig(file, { username: 'alice' });
    await writeConfig(file, { username: 'bob' });
    expect(await mode(dirname(file))).toBe(0o700);
    expect(await readdir(dirname(file))).toEqual(['config.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ username: 'bob' });
  });

  it('replaces a file that was 0644 with a 0600 one', async () => {
    const file = configFilePath(env);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, '{"apiToken":"tmx_old"}', { mode: 0o644 });
    await updateConfig(file, (current) => ({ ...current, username: 'alice' }));
    expect(await mode(file)).toBe(0o600);
    expect(await readConfig(file)).toEqual({ apiToken: 'tmx_old', username: 'alice' });
  });

  it('reads a missing file as empty, ignores unknown fields, and names a broken file', async () => {
    const file = configFilePath(env);
    expect(await readConfig(file)).toEqual({});
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, '{"username": "alice", "apiToken": 42, "colour": "blue"}');
    expect(await readConfig(file)).toEqual({ username: 'alice' });
    await writeFile(file, '{not json');
    await expect(readConfig(file)).rejects.toThrow(`${file} is not valid JSON`);
    await writeFile(file, '[]');
    await expect(readConfig(file)).rejects.toThrow('should hold a JSON object');
  });
});

describe('resolving the settings', () => {
  const file = { server: 'https://file.example', apiToken: 'tmx_file', username: 'alice' };

  it('defaults to https://tmux.me with no login', () => {
    expect(resolveSettings({ env: {}, flags: {}, file: {} })).toEqual({ server: defaultServer });
  });

  it('takes the file when nothing overrides it', () => {
    expect(resolveSettings({ env: {}, flags: {}, file })).toEqual({
      server: 'https://file.example', apiToken: 'tmx_file', apiTokenSource: 'file', username: 'alice',
    });
  });

  it('lets TMUXME_SERVER beat the file and --server beat both', () => {
    expect(resolveSettings({ env: { TMUXME_SERVER: 'https://env.example' }, flags: {}, file }).server).toBe('https://env.example');
    expect(resolveSettings({ env: { TMUXME_SERVER: 'https://env.example' }, flags: { server: 'https://flag.example/' }, file }).server)
      .toBe('https://flag.example');
  });

  it('lets TMUXME_TOKEN beat the file, without the file\'s username', () => {
    expect(resolveSettings({ env: { TMUXME_TOKEN: 'tmx_env' }, flags: {}, file })).toEqual({
      server: 'https://file.example', apiToken: 'tmx_env', apiTokenSource: 'env',
    });
  });

  it('never sends the file\'s token to another server', () => {
    expect(resolveSettings({ env: {}, flags: { server: 'https://other.example' }, file })).toEqual({ server: 'https://other.example' });
    expect(resolveSettings({ env: { TMUXME_SERVER: 'https://other.example', TMUXME_TOKEN: 'tmx_env' }, flags: {}, file }))
      .toEqual({ server: 'https://other.example', apiToken: 'tmx_env', apiTokenSource: 'env' });
    // A file without a server holds a login for the default server.
    expect(resolveSettings({ env: {}, flags: { server: 'https://tmux.me/' }, file: { apiToken: 'tmx_file' } }).apiToken).toBe('tmx_file');
  });

  it('refuses a server that is not an http(s) URL, saying where to fix it', () => {
    expect(() => resolveSettings({ env: {}, flags: { server: 'tmux.me' }, file: {} })).toThrow(/not a server URL.*--server or TMUXME_SERVER/);
    expect(() => resolveSettings({ env: { TMUXME_SERVER: 'ftp://tmux.me' }, flags: {}, file: {} })).toThrow(/not an http\(s\) URL/);
  });
});

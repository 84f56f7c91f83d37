import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, eventually, freePort, generateSshKey, testAmqpUrl, waitForPort, type GeneratedKey } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/** The `tmuxme` CLI run as a process, as a user runs it, against the real services behind the gateway. */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliEntry = join(repoRoot, 'cli/src/bin/tmuxme.ts');
const password = 'correct horse battery';

let stack: Stack;
let api: ApiClient;
const scratch: string[] = [];
const daemons: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl() });
  api = new ApiClient(stack.gatewayUrl);
});
afterAll(async () => {
  for (const daemon of daemons) daemon.kill();
  await stack?.close();
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface CliResult { code: number | null; stdout: string; stderr: string }

/** One user's machine: a home with an ed25519 key in ~/.ssh, its own config and temp directories. */
interface Machine {
  home: string;
  key: GeneratedKey;
  configFile: string;
  tmp: string;
  tmuxme(args: string[], stdin?: string): Promise<CliResult>;
  config(): Promise<Record<string, string>>;
}

async function machine(): Promise<Machine> {
  const home = await mkdtemp(join(tmpdir(), 'tmuxme-cli-home-'));
  scratch.push(home);
  const key = await generateSshKey('ed25519', undefined, 'me@laptop');
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  await writeFile(join(home, '.ssh', 'id_ed25519'), key.privateKey, { mode: 0o600 });
  await writeFile(join(home, '.ssh', 'id_ed25519.pub'), key.publicKey);
  const tmp = join(home, 'tmp');
  await mkdir(tmp);
  const env = { PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), TMPDIR: tmp, TMUXME_SERVER: stack.gatewayUrl };
  const configFile = join(home, 'xdg', 'tmuxme', 'config.json');
  return {
    home, key, configFile, tmp,
    tmuxme: (args, stdin = '') => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot, env, stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => { stdout += chunk; });
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    }),
    config: async () => JSON.parse(await readFile(configFile, 'utf8')),
  };
}

/** A machine whose user signed up through the CLI. */
async function signedUp(username: string): Promise<Machine> {
  const box = await machine();
  const result = await box.tmuxme(['signup', '--username', username, '--email', `${username}@example.com`], `${password}\n${password}\n`);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return box;
}

async function tokenWorks(apiToken: string): Promise<boolean> {
  const exchanged = await api.request('POST', '/api/v1/auth/token', undefined, { authorization: `Token ${apiToken}` });
  return exchanged.status === 200;
}

async function apiAs(username: string): Promise<ApiClient> {
  const { json } = await api.request('POST', '/api/v1/auth/login', { login: username, password });
  return api.withToken(json.accessToken);
}

describe('an account from the command line', () => {
  it('signs up, keeping the server, the username and a working token in a 0600 file', async () => {
    const box = await signedUp('alice');
    expect((await stat(box.configFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(box.configFile))).mode & 0o777).toBe(0o700);
    const config = await box.config();
    expect(config).toEqual({ server: stack.gatewayUrl, username: 'alice', apiToken: expect.stringMatching(/^tmx_[0-9A-Za-z]{40}$/) });
    expect(await tokenWorks(config.apiToken!)).toBe(true);
    const taken = await (await machine()).tmuxme(['signup', '--username', 'alice', '--email', 'other@example.com'], `${password}\n${password}\n`);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('The username "alice" is taken.');
  });

  it('logs in by password with a token named after the machine, by username or e-mail', async () => {
    await signedUp('bob');
    for (const login of ['bob', 'bob@example.com']) {
      const laptop = await machine();
      const result = await laptop.tmuxme(['login', login], `${password}\n`);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`as bob, with a new API token named "${hostname()}"`);
      const config = await laptop.config();
      expect(config).toMatchObject({ server: stack.gatewayUrl, username: 'bob' });
      expect(await tokenWorks(config.apiToken!)).toBe(true);
    }
    const tokens = (await (await apiAs('bob')).request('GET', '/api/v1/user/tokens')).json;
    expect(tokens.map((t: { name: string }) => t.name).sort()).toEqual(['default', hostname(), hostname()].sort());
  });

  it('refuses a wrong password and stores nothing', async () => {
    await signedUp('carol');
    const laptop = await machine();
    const result = await laptop.tmuxme(['login', 'carol'], 'not the password\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('tmuxme login: That login and password do not match an account.\n');
    await expect(stat(laptop.configFile)).rejects.toThrow(/ENOENT/);
  });

  it('keeps a token given with --token once it is shown to work, and refuses one that does not', async () => {
    const apiToken = (await (await signedUp('dave')).config()).apiToken!;
    const laptop = await machine();
    const accepted = await laptop.tmuxme(['login', '--token', apiToken]);
    expect(accepted.code).toBe(0);
    expect(await laptop.config()).toEqual({ server: stack.gatewayUrl, username: 'dave', apiToken });
    const refused = await (await machine()).tmuxme(['login', '--token', `tmx_${'x'.repeat(40)}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('That API token is not valid');
    expect(refused.stderr).toContain('`tmuxme login`');
  });

  it('logs out: the token is revoked on the server and forgotten here', async () => {
    const box = await signedUp('erin');
    const { apiToken } = await box.config();
    const result = await box.tmuxme(['logout']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('the API token is revoked');
    expect(await tokenWorks(apiToken!)).toBe(false);
    expect(await box.config()).toEqual({ server: stack.gatewayUrl });
    const after = await box.tmuxme(['keys']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('You are not logged in to');
    expect(after.stderr).toContain('`tmuxme login`');
  });
});

describe('a server out of reach', () => {
  it('is named, with the flag and the variable that choose it', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const result = await (await machine()).tmuxme(['keys', '--server', closed]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`tmuxme keys: You are not logged in to ${closed}: run \`tmuxme login\` (or \`tmuxme signup\` for a new account).\n`);
    const login = await (await machine()).tmuxme(['login', '--server', closed, '--token', `tmx_${'x'.repeat(40)}`]);
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(new RegExp(`^tmuxme login: Cannot reach the tmux.me server at ${closed} \\(ECONNREFUSED\\).*--server or TMUXME_SERVER`));
  });
});

describe('SSH keys from the command line', () => {
  it('adds ~/.ssh/id_ed25519.pub by default, lists it, and removes it by fingerprint', async () => {
    const box = await signedUp('frank');
    const added = await box.tmuxme(['keys', 'add']);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`(${box.key.fingerprint}) from ${join(box.home, '.ssh', 'id_ed25519.pub')}`);
    const listed = await box.tmuxme(['keys', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ title: 'me@laptop', type: 'ssh-ed25519', fingerprint: box.key.fingerprint })]);
    expect((await box.tmuxme(['keys'])).stdout).toMatch(new RegExp(`me@laptop\\s+ssh-ed25519\\s+${box.key.fingerprint.replace(/[+/]/g, '\\$&')}`));
    const removed = await box.tmuxme(['keys', 'rm', box.key.fingerprint]);
    expect(removed.code).toBe(0);
    expect(JSON.parse((await box.tmuxme(['keys', '--json'])).stdout)).toEqual([]);
  });

  it('says what is wrong with a bad key file, a private key, or an unknown key', async () => {
    const box = await signedUp('grace');
    const badFile = join(box.home, 'not-a-key.pub');
    await writeFile(badFile, 'hello world\n');
    const invalid = await box.tmuxme(['keys', 'add', badFile]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(new RegExp(`^tmuxme keys: ${badFile}: .+`));
    const privateKey = await box.tmuxme(['keys', 'add', join(box.home, '.ssh', 'id_ed25519')]);
    expect(privateKey.code).toBe(1);
    expect(privateKey.stderr).toContain('is a private key: never share it');
    const missing = await box.tmuxme(['keys', 'add', join(box.home, 'nope.pub')]);
    expect(missing.stderr).toContain('Cannot read');
    const unknown = await box.tmuxme(['keys', 'rm', 'no-such-key']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('You have no key with the id or fingerprint "no-such-key"');
    const usage = await box.tmuxme(['keys', 'rm']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Usage: tmuxme keys');
  });
});

describe('sessions and joining from the command line', () => {
  let guest: Machine;
  let host: ApiClient;

  beforeAll(async () => {
    guest = await signedUp('gina');
    await signedUp('hal');
    host = await apiAs('hal');
  });

  /** A session the host declares with the CLI's user as guest (once sessions has heard of them). */
  async function declare(hostKey?: string) {
    const lease = (await host.request('GET', '/api/v1/pairing/port')).json;
    const declared = await eventually(async () => {
      const response = await host.request('POST', '/api/v1/pairing/sessions', { port: lease.port, guests: ['gina'], ...(hostKey ? { hostKey } : {}) });
      return response.status === 201 ? response.json : undefined;
    });
    return declared as { id: string; port: number; tunnelHost: string };
  }

  it('lists the sessions one is a guest of, as JSON and with join commands', async () => {
    const session = await declare();
    const listed = await guest.tmuxme(['sessions', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: session.id, role: 'guest', host: { username: 'hal' } })]);
    const text = (await guest.tmuxme(['sessions'])).stdout;
    expect(text).toContain(`tmuxme join ${session.id}`);
    expect(text).toContain(`ssh -p ${session.port} tmuxme@127.0.0.1`);
    await host.request('DELETE', `/api/v1/pairing/sessions/${session.id}`);
  });

  it('joins with the declared host key pinned, and refuses an impostor, against a real sshd', async () => {
    const hostKey = await generateSshKey('ed25519');
    const pinned = await declare(hostKey.publicKey);
    const impostor = await declare((await generateSshKey('ed25519')).publicKey);
    await startSshd(hostKey, [pinned.port, impostor.port]);
    const [type, blob] = hostKey.publicKey.split(' ');

    const plan = await guest.tmuxme(['join', pinned.id, '--dry-run', '--', '-i', 'my key']);
    expect(plan.code).toBe(0);
    const [knownHosts, command] = plan.stdout.trim().split('\n');
    expect(knownHosts).toBe(`known_hosts: [127.0.0.1]:${pinned.port} ${type} ${blob}`);
    expect(command).toMatch(new RegExp(`^ssh -o UserKnownHostsFile=${guest.tmp}/tmuxme-known-hosts-\\w+/known_hosts -o GlobalKnownHostsFile=/dev/null `
      + `-o StrictHostKeyChecking=yes -p ${pinned.port} -i 'my key' tmuxme@127.0.0.1$`));

    // No user key is authorized for tmuxme there, so at best ssh gets past the host key and is refused.
    const sshOptions = ['--', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5'];
    const joined = await guest.tmuxme(['join', pinned.id, ...sshOptions]);
    expect(joined.code).toBe(255);
    expect(joined.stderr).toContain('Permission denied');
    expect(joined.stderr).not.toContain('Host key verification failed');
    const refused = await guest.tmuxme(['join', impostor.id, ...sshOptions]);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain('Host key verification failed');
    expect(refused.stderr).not.toContain('Permission denied');
    // (tsx keeps its cache there too.)
    expect((await readdir(guest.tmp)).filter((name) => name.startsWith('tmuxme-known-hosts-'))).toEqual([]);
  });

  it('joins a session without a host key only when told to accept a new one', async () => {
    const session = await declare();
    const refused = await guest.tmuxme(['join', session.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('hal declared no SSH host key');
    expect(refused.stderr).toContain('--insecure-accept-new');
    const plan = await guest.tmuxme(['join', session.id, '--insecure-accept-new', '--dry-run']);
    expect(plan.code).toBe(0);
    // Nothing forwards the session's port here, so the join goes through the box's SSH port, still pinning the box.
    expect(plan.stderr).toContain(`port ${session.port} refused the connection`);
    expect(plan.stdout).toMatch(new RegExp(`-o StrictHostKeyChecking=accept-new -o 'ProxyCommand=ssh .*-o StrictHostKeyChecking=yes -W %h:%p -p \\d+ join@127\\.0\\.0\\.1' -p ${session.port} tmuxme@127\\.0\\.0\\.1\n`));
    const unknown = await guest.tmuxme(['join', 'no-such-session']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^tmuxme join: .*session/i);
  });
});

/** Debian's sshd on the leased ports, with the host's key: what a guest reaches through the tunnel box. */
async function startSshd(hostKey: GeneratedKey, ports: number[]): Promise<void> {
  for (const port of ports) expect(await canConnect(port)).toBe(false);
  const dir = await mkdtemp(join(tmpdir(), 'tmuxme-cli-sshd-'));
  scratch.push(dir);
  await writeFile(join(dir, 'host_key'), hostKey.privateKey, { mode: 0o600 });
  const portArgs = ports.flatMap((port) => ['-p', String(port)]);
  daemons.push(spawn('/usr/sbin/sshd', ['-D', '-e', '-f', '/dev/null', '-h', join(dir, 'host_key'), ...portArgs, '-o', 'ListenAddress=127.0.0.1', '-o', 'PidFile=none'], { stdio: 'ignore' }));
  await Promise.all(ports.map((port) => waitForPort(port, 10_000)));
}

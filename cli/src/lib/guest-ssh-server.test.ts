import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { spawn as spawnPty } from '@lydell/node-pty';
import ssh2 from 'ssh2';
import { freePort, generateSshKey, waitForPort } from '@tmuxme/testing';
import { eventually } from '../../test/eventually.js';
import { GuestSshServer, type GuestSshEvent } from './guest-ssh-server.js';
import { tmuxEnvironment } from './tmux-session.js';

const run = promisify(execFile);

let work: string;
let socket: string;
let server: GuestSshServer;
let tunnel: Server;
let port: number;
let knownHosts: string;
const keys: Record<'alice' | 'bob' | 'stranger', { path: string; privateKey: string }> = {} as never;
const events: GuestSshEvent[] = [];
const cleanups: (() => unknown)[] = [];
// The guests' ssh must not use the machine's agent or config: only the key a test names.
const { SSH_AUTH_SOCK: _agent, TMUX: _tmux, TMUX_PANE: _pane, ...sshEnvironment } = process.env;

const tmux = (...args: string[]) => run('tmux', ['-S', socket, ...args], { env: tmuxEnvironment() }).then(({ stdout }) => stdout);
const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-200');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-guest-ssh-'));
  socket = join(work, 'tmux.sock');
  await run('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24', 'env', 'PS1=$ ', 'sh'], { env: tmuxEnvironment() });
  const [hostKey, alice, bob, stranger] = await Promise.all(['host', 'alice', 'bob', 'stranger'].map(() => generateSshKey('ed25519')));
  for (const [name, key] of Object.entries({ alice, bob, stranger })) {
    const path = join(work, name);
    await writeFile(path, key!.privateKey, { mode: 0o600 });
    keys[name as keyof typeof keys] = { path, privateKey: key!.privateKey };
  }
  server = new GuestSshServer({
    hostKey: hostKey!.privateKey, tmuxPath: 'tmux', socket, onEvent: (event) => events.push(event),
    guests: [{ username: 'alice', access: 'rw', publicKeys: [alice!.publicKey] }, { username: 'bob', access: 'ro', publicKeys: [bob!.publicKey] }],
  });
  // Stands in for the reverse tunnel: every connection it takes is one the box forwarded.
  tunnel = createServer((stream) => server.serve(stream));
  await new Promise<void>((resolve) => tunnel.listen(0, '127.0.0.1', resolve));
  port = (tunnel.address() as { port: number }).port;
  knownHosts = join(work, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey!.publicKey.split(' ').slice(0, 2).join(' ')}\n`);
});

afterAll(async () => {
  await Promise.allSettled(cleanups.map((cleanup) => cleanup()));
  await server?.close();
  await new Promise((resolve) => tunnel?.close(resolve));
  await run('tmux', ['-S', socket, 'kill-server']).catch(() => {});
  await rm(work, { recursive: true, force: true });
});

function sshArgv(key: string, options: string[] = [], command: string[] = []): string[] {
  return [
    '-F', '/dev/null', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
    '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-i', key, '-p', String(port), ...options, 'tmuxme@127.0.0.1', ...command,
  ];
}

interface Guest {
  type(text: string): void;
  screen(): string;
  resize(cols: number, rows: number): void;
  exited: Promise<number>;
}

/** A guest's `ssh -tt` in a real terminal of its own (a pty from @lydell/node-pty), so window sizes are real. */
function joinAsGuest(key: string, { cols = 80, rows = 24, options = [] as string[], env = sshEnvironment } = {}): Guest {
  const terminal = spawnPty('ssh', sshArgv(key, ['-tt', ...options]), { name: 'xterm-256color', cols, rows, env: { ...env, TERM: 'xterm-256color' } });
  let screen = '';
  terminal.onData((data) => { screen += data; });
  const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
  cleanups.push(() => terminal.kill());
  return { type: (text) => terminal.write(text), screen: () => screen, resize: (c, r) => terminal.resize(c, r), exited };
}

/** A non-interactive ssh run: what it printed and how it ended. */
function runSsh(key: string, options: string[], command: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnProcess('ssh', sshArgv(key, options, command), { stdio: ['ignore', 'pipe', 'pipe'], env: sshEnvironment });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function background(key: string, options: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawnProcess('ssh', sshArgv(key, options), { stdio: ['ignore', 'ignore', 'pipe'], env: sshEnvironment });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  cleanups.push(() => child.kill());
  return { child, stderr: () => stderr };
}

const refusals = (refusal: string) => events.filter((event) => (event.type === 'refused' || event.type === 'request-refused') && event.refusal === refusal);
const connected = (username: string) => events.flatMap((event) => (event.type === 'connected' && event.connection.username === username ? [event.connection] : []));

interface Client { pid: number; width: number; height: number; readOnly: boolean }
async function tmuxClients(): Promise<Client[]> {
  const lines = (await tmux('list-clients', '-F', '#{client_pid} #{client_width} #{client_height} #{client_readonly}')).split('\n').filter(Boolean);
  return lines.map((line) => {
    const [pid, width, height, readOnly] = line.split(' ').map(Number);
    return { pid: pid!, width: width!, height: height!, readOnly: readOnly === 1 };
  });
}

/** What a tmux client was started with: its process's environment, as the kernel keeps it. */
async function clientEnvironment(pid: number): Promise<Record<string, string>> {
  const entries = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

/** Whether tmux draws UTF-8 to a client, which it decided from the client's LC_ALL, LC_CTYPE or LANG. */
async function clientUtf8(pid: number): Promise<boolean> {
  const lines = (await tmux('list-clients', '-F', '#{client_pid} #{client_utf8}')).split('\n');
  return lines.includes(`${pid} 1`);
}

/**
 * A new connection of a guest's, once tmux lists its client: its id and the client's pid. Not sooner: until the
 * pty's child has exec'd tmux, /proc/<pid>/environ is not yet the environment tmux was given.
 */
async function newConnection(username: string, before: Set<string>): Promise<{ id: string; pid: number }> {
  return eventually(async () => {
    const connection = server.connections().find((c) => c.username === username && !before.has(c.id) && c.tmuxClientPids.length > 0);
    const pid = connection?.tmuxClientPids[0];
    return pid !== undefined && (await tmuxClients()).some((client) => client.pid === pid) && { id: connection!.id, pid };
  }, `${username}'s new connection attached (events: ${JSON.stringify(events)})`);
}

/** The tmux client of a guest's connection (by default their latest), once it is attached. */
async function attachedClient(username: string, connectionId?: string): Promise<Client> {
  return eventually(async () => {
    const connection = connectionId
      ? server.connections().find((c) => c.id === connectionId)
      : server.connections().filter((c) => c.username === username).at(-1);
    const client = (await tmuxClients()).find((c) => connection?.tmuxClientPids.includes(c.pid));
    return client ?? false;
  }, `${username} attached (events: ${JSON.stringify(events)})`);
}

let alice: Guest;
let aliceConnection: string;

describe('the guests\' SSH server inside tmuxme', () => {
  it('lets an invited read-write guest into the tmux session, where her keystrokes arrive', async () => {
    alice = joinAsGuest(keys.alice.path, { cols: 100, rows: 30 });
    const client = await attachedClient('alice');
    expect(client).toMatchObject({ readOnly: false, width: 100, height: 30 });
    expect(connected('alice')[0]).toMatchObject({ sshUser: 'tmuxme', readOnly: false });
    aliceConnection = connected('alice')[0]!.id;

    alice.type('echo typed-by-al""ice-1\r');
    await eventually(async () => (await pane()).includes('typed-by-alice-1'), 'alice\'s command ran in the host\'s pane');
  });

  it('passes her window size changes through to tmux', async () => {
    alice.resize(120, 40);
    await eventually(async () => (await attachedClient('alice', aliceConnection)).width === 120, 'tmux saw the new width');
    expect(await attachedClient('alice', aliceConnection)).toMatchObject({ width: 120, height: 40 });
  });

  it('gives 80x24 to a guest whose ssh knows no size (ssh -tt without a terminal asks for 0x0)', async () => {
    const before = new Set(server.connections().map((c) => c.id));
    const child = spawnProcess('ssh', sshArgv(keys.alice.path, ['-tt']), { stdio: ['pipe', 'ignore', 'ignore'], env: sshEnvironment });
    cleanups.push(() => child.kill());
    const id = await eventually(() => server.connections().find((c) => !before.has(c.id))?.id ?? false, 'the new connection');
    expect(await attachedClient('alice', id)).toMatchObject({ width: 80, height: 24, readOnly: false });
    child.kill();
  });

  it('attaches a read-only guest read-only: his keystrokes do not reach the pane', async () => {
    const bob = joinAsGuest(keys.bob.path);
    expect(await attachedClient('bob')).toMatchObject({ readOnly: true });
    bob.type('echo typed-by-b""ob\r');
    alice.type('echo typed-by-al""ice-2\r');
    await eventually(async () => (await pane()).includes('typed-by-alice-2'), 'alice typed after bob');
    expect(await pane()).not.toContain('typed-by-bob');

    const { id } = connected('bob').at(-1)!;
    expect(server.disconnect(id)).toBe(true);
    await bob.exited;
    await eventually(() => events.some((event) => event.type === 'left' && event.connection.id === id), 'bob left');
  });

  it('refuses a key that is not invited', async () => {
    const { code, stderr } = await runSsh(keys.stranger.path, ['-T']);
    expect(code).toBe(255);
    expect(stderr).toContain('Permission denied (publickey)');
    expect(refusals('authentication').at(-1)).toMatchObject({ detail: expect.stringContaining('a key that is not invited') });
  });

  it('knows a guest by her key even after another key was offered first, and logs no refusal for that', async () => {
    const before = refusals('authentication').length;
    const { code, stderr } = await runSsh(keys.stranger.path, ['-i', keys.alice.path, '-T']);
    expect({ code, stderr }).toMatchObject({ code: 1, stderr: expect.stringContaining('this session needs a terminal') });
    expect(refusals('authentication')).toHaveLength(before);
  });

  it('offers no password or keyboard-interactive login, and refuses one that is tried anyway', async () => {
    const { code, stderr } = await runSsh(keys.alice.path, ['-T', '-o', 'PreferredAuthentications=password,keyboard-interactive']);
    expect(code).toBe(255);
    expect(stderr).toContain('Permission denied (publickey)');

    // OpenSSH will not send a password in batch mode; ssh2's client sends one regardless.
    const before = refusals('authentication').length;
    const client = new ssh2.Client();
    const failure = new Promise<Error>((resolve) => client.on('error', resolve).on('ready', () => resolve(new Error('logged in'))));
    client.connect({ host: '127.0.0.1', port, username: 'tmuxme', password: 'hunter2', tryKeyboard: true, hostVerifier: () => true });
    expect((await failure).message).toBe('All configured authentication methods failed');
    client.end();
    await eventually(() => refusals('authentication').length > before, 'the refusal logged');
    expect(refusals('authentication').at(-1)).toMatchObject({ detail: expect.stringContaining('password') });
  });

  it('has an OpenSSH client that prefers ChaCha20 and AES-CTR encrypt with AES-GCM', async () => {
    const { stderr } = await runSsh(keys.alice.path, ['-T', '-v']);
    expect(stderr).toMatch(/kex: server->client cipher: aes128-gcm@openssh\.com/);
    expect(stderr).toMatch(/kex: client->server cipher: aes128-gcm@openssh\.com/);
  });

  it('refuses a session without a pty, exec and sftp, saying so', async () => {
    const counts = () => [refusals('no-pty').length, refusals('exec').length, refusals('subsystem').length];
    const [noPtyBefore, execBefore, subsystemBefore] = counts();
    const noPty = await runSsh(keys.alice.path, ['-T']);
    expect(noPty).toMatchObject({ code: 1, stderr: expect.stringContaining('this session needs a terminal') });
    const exec = await runSsh(keys.alice.path, [], ['echo', 'hi']);
    expect(exec).toMatchObject({ code: 255, stdout: '', stderr: expect.stringContaining('exec request failed') });
    const sftp = await runSsh(keys.alice.path, ['-s'], ['sftp']);
    expect(sftp).toMatchObject({ code: 255, stderr: expect.stringContaining('subsystem request failed') });
    expect(counts()).toEqual([noPtyBefore! + 1, execBefore! + 1, subsystemBefore! + 1]);
    // Each a request of a guest's who logged in, not a connection turned away.
    expect(refusals('exec').at(-1)).toMatchObject({ type: 'request-refused', username: 'alice', connectionId: expect.any(String) });
  });

  it('refuses local and remote port forwarding', async () => {
    const remote = await runSsh(keys.alice.path, ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `${await freePort()}:127.0.0.1:22`]);
    expect(remote).toMatchObject({ code: 255, stderr: expect.stringContaining('remote port forwarding failed') });

    const localPort = await freePort();
    const forwarder = background(keys.alice.path, ['-N', '-L', `${localPort}:127.0.0.1:${port}`]);
    await waitForPort(localPort, 10_000);
    const through = connect({ host: '127.0.0.1', port: localPort });
    through.on('error', () => {});
    await new Promise((resolve) => through.once('close', resolve));
    await eventually(() => /open failed/.test(forwarder.stderr()), `ssh reported the refused forward (${forwarder.stderr()})`);
    forwarder.child.kill();
    expect(refusals('port-forwarding').map((event) => event.type === 'request-refused' && event.detail)).toEqual([
      expect.stringContaining('remote forward (-R'), expect.stringContaining(`local forward (-L) to 127.0.0.1:${port}`),
    ]);
  });

  it('refuses agent forwarding, and still attaches the guest', async () => {
    const agentSocket = join(work, 'agent.sock');
    const agent = spawnProcess('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
    cleanups.push(() => agent.kill());
    await eventually(async () => run('ssh-add', ['-l'], { env: { SSH_AUTH_SOCK: agentSocket } }).then(() => true, (error) => error.code === 1), 'the agent is up');
    const withAgent = joinAsGuest(keys.alice.path, { options: ['-A'], env: { ...sshEnvironment, SSH_AUTH_SOCK: agentSocket } });
    await eventually(() => refusals('agent-forwarding').length === 1, 'agent forwarding refused');
    withAgent.type('echo agent-gu""est\r');
    await eventually(async () => (await pane()).includes('agent-guest'), 'the guest who asked for the agent still typed into the pane');
    agent.kill();
  });

  it('refuses X11 forwarding and every variable but TERM, LANG and LC_*, and still attaches the guest', async () => {
    const asking = joinAsGuest(keys.alice.path, {
      options: ['-o', 'ForwardX11=yes', '-o', 'SetEnv=LD_PRELOAD=/tmp/evil.so TERM=screen'],
      env: { ...sshEnvironment, DISPLAY: ':99' },
    });
    await eventually(() => refusals('x11-forwarding').length === 1 && refusals('env').length === 1, 'X11 and the variable refused');
    expect(refusals('env')[0]).toMatchObject({ type: 'request-refused', username: 'alice', detail: expect.stringContaining('LD_PRELOAD') });
    asking.type('echo env-gu""est\r');
    await eventually(async () => (await pane()).includes('env-guest'), 'the guest who asked still typed into the pane');
  });

  it('hands a guest\'s LANG and LC_* (SendEnv, as Debian\'s and macOS\'s ssh_config have it) to her tmux client, in place of the host\'s', async () => {
    const before = new Set(server.connections().map((c) => c.id));
    const guest = joinAsGuest(keys.alice.path, {
      options: ['-o', 'SendEnv=LANG LC_*'],
      env: { ...sshEnvironment, LANG: 'de_DE.UTF-8', LC_MESSAGES: 'fr_FR.UTF-8', LC_TERMINAL: 'iTerm2', LC_ALL: '' },
    });
    const { pid } = await newConnection('alice', before);
    const environment = await clientEnvironment(pid);
    expect(environment).toMatchObject({ LANG: 'de_DE.UTF-8', LC_MESSAGES: 'fr_FR.UTF-8', LC_TERMINAL: 'iTerm2', LC_ALL: '' });
    expect(environment).not.toHaveProperty('LC_CTYPE');
    expect(await clientUtf8(pid)).toBe(true);
    guest.type('echo locale-gu""est\r');
    await eventually(async () => (await pane()).includes('locale-guest'), 'the guest with a locale typed into the pane');
  });

  it('lets a guest\'s locale decide whether tmux draws UTF-8 to her, whatever the host\'s (SetEnv LANG=C: no UTF-8)', async () => {
    const before = new Set(server.connections().map((c) => c.id));
    joinAsGuest(keys.alice.path, { options: ['-o', 'SetEnv=LANG=C'], env: { ...sshEnvironment, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
    const { pid } = await newConnection('alice', before);
    const environment = await clientEnvironment(pid);
    expect(environment.LANG).toBe('C');
    expect(environment).not.toHaveProperty('LC_ALL');
    expect(await clientUtf8(pid)).toBe(false);

    // A guest who sends no locale keeps the host's, as before.
    const plain = await clientEnvironment((await attachedClient('alice', aliceConnection)).pid);
    expect(plain.LANG).toBe(process.env.LANG);
  });

  it('refuses a variable it does not take, and a LANG too long or with a control character, quietly: the guest stays, her locale unset', async () => {
    const cases = [
      { options: ['-o', 'SetEnv=LD_PRELOAD=/x'], detail: '"LD_PRELOAD" (only TERM, LANG and LC_* are accepted)' },
      { options: ['-o', `SetEnv=LANG=${'de_DE.UTF-8'.padEnd(65, 'x')}`], detail: 'setting LANG to 65 bytes' },
      { options: ['-o', 'SetEnv=LANG=de_DE\x1b[31m.UTF-8'], detail: 'setting LANG to 16 bytes' },
      { options: ['-o', 'SetEnv=LC_CTYPE=de_DE.UTF-8\x7f'], detail: 'setting LC_CTYPE to 12 bytes' },
    ];
    for (const { options, detail } of cases) {
      const before = new Set(server.connections().map((c) => c.id));
      const eventsBefore = events.length;
      const guest = joinAsGuest(keys.alice.path, { options });
      const { id, pid } = await newConnection('alice', before);
      const ours = () => events.slice(eventsBefore).filter((event) => 'connectionId' in event && event.connectionId === id);
      await eventually(() => ours().some((event) => event.type === 'request-refused'), `the refusal of ${options[1]}`);
      expect(ours().filter((event) => event.type === 'request-refused' || event.type === 'refused')).toEqual([
        { type: 'request-refused', refusal: 'env', username: 'alice', connectionId: id, detail: expect.stringContaining(detail) },
      ]);
      const environment = await clientEnvironment(pid);
      expect(environment).not.toHaveProperty('LD_PRELOAD');
      expect([environment.LANG, environment.LC_CTYPE]).toEqual([process.env.LANG, process.env.LC_CTYPE]);
      guest.type(`echo refused-${id}-gu""est\r`);
      await eventually(async () => (await pane()).includes(`refused-${id}-guest`), `the guest who sent ${options[1]} still typed into the pane`);
      expect(server.connections().some((c) => c.id === id)).toBe(true);
    }
  });

  it('drops a connection that floods it with requests', async () => {
    const client = new ssh2.Client();
    const ready = new Promise<void>((resolve, reject) => client.on('ready', resolve).on('error', reject));
    const closed = new Promise((resolve) => client.on('close', () => resolve(undefined)));
    client.connect({ host: '127.0.0.1', port, username: 'tmuxme', privateKey: keys.alice.privateKey, hostVerifier: () => true });
    await ready;
    client.on('error', () => {});
    for (let i = 0; i < 200; i++) client.forwardIn('127.0.0.1', 10_000 + i, () => {});
    await closed;
    expect(refusals('request-flood')).toEqual([expect.objectContaining({ type: 'refused', username: 'alice' })]);
  });

  it('has left the first guest attached and working through all of that', async () => {
    alice.type('echo still-he""re\r');
    await eventually(async () => (await pane()).includes('still-here'), 'alice still types into the pane');
    expect(await attachedClient('alice', aliceConnection)).toMatchObject({ readOnly: false, width: 120, height: 40 });
  });

  it('accepts nothing once closed, and ends the guests who were in', async () => {
    await server.close();
    expect(await alice.exited).not.toBe(0);
    expect(server.connections()).toEqual([]);
    const { code, stderr } = await runSsh(keys.alice.path, ['-T']);
    expect(code).toBe(255);
    expect(stderr).toMatch(/Connection closed|Connection reset/);
    expect(refusals('server-closed')).toHaveLength(1);
    expect(await tmuxClients()).toEqual([]);
  });
});

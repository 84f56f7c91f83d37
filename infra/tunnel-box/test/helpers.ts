import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { generateSshKey, knownHostsLine, tunnelSshArgs, type TunnelBox } from '@tmuxme/testing';

/** What tunnel-hold, every box user's forced command, says on stderr. */
export const holdBanner = 'tmux.me relay: forwarding only; nothing runs here';

/** Every ssh this suite starts, so afterAll can end the ones a failed test left running. */
export const children = new Set<ChildProcess>();

export async function killChildren(): Promise<void> {
  await Promise.all([...children].map(stopChild));
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await gone;
  }
  children.delete(child);
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the real ssh client; see `runSsh` for one that waits. */
export function startSsh(args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => SshResult; exit: Promise<SshResult> } {
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const output = () => ({ code: child.exitCode, stdout, stderr });
  const exit = new Promise<SshResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => { children.delete(child); resolve({ code, stdout, stderr }); });
  });
  return { child, output, exit };
}

/** Runs ssh to the end with `input` on its stdin (then EOF), or kills it after timeoutMs. */
export async function runSsh(args: string[], input = '', timeoutMs = 10_000): Promise<SshResult> {
  const { child, exit } = startSsh(args);
  child.stdin!.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exit;
  } finally {
    clearTimeout(timer);
  }
}

export interface KeyFile {
  path: string;
  /** `ssh-ed25519 AAAA…` without the comment. */
  publicKey: string;
}

/** A fresh ed25519 key written 0600 (ssh refuses a private key others can read). */
export async function keyFile(dir: string, name: string): Promise<KeyFile> {
  const key = await generateSshKey('ed25519');
  const path = join(dir, name);
  await writeFile(path, key.privateKey, { mode: 0o600 });
  return { path, publicKey: key.publicKey.trim().split(' ').slice(0, 2).join(' ') };
}

/** An authorized_keys line in the form of docs/architecture.md §5. */
export function tunnelKeyLine(key: KeyFile, port: number | '*', userId: string, keyId: string): string {
  return `restrict,port-forwarding,permitlisten="${port}",command="/usr/local/bin/tunnel-hold" ${key.publicKey} tmuxme:${userId}:${keyId}`;
}

/**
 * A join user's line as tunnel-sync writes it: one per key, with one
 * permitopen per session the key's owner may join (sshd uses only the first
 * line that matches a key).
 */
export function joinKeyLine(key: KeyFile, targets: readonly string[], userId: string, keyId: string): string {
  const permits = targets.map((target) => `permitopen="${target}",`).join('');
  return `restrict,port-forwarding,${permits}command="/usr/local/bin/tunnel-hold" ${key.publicKey} tmuxme-join:${userId}:${keyId}`;
}

/** ssh arguments for `key` against `box`, with a known_hosts file pinned to the box's key. */
export async function sshTo(box: TunnelBox, dir: string, key: KeyFile): Promise<string[]> {
  const knownHosts = join(dir, `known_hosts-${box.port}`);
  await writeFile(knownHosts, knownHostsLine(box));
  return tunnelSshArgs(box, key.path, knownHosts);
}

export interface EchoServer {
  port: number;
  /** Connections it has accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** The forward's target: echoes every byte back, and counts who reached it. Loopback only, on `port` if given. */
export async function startEchoServer({ host = '127.0.0.1', port = 0 }: { host?: '127.0.0.1' | '127.0.0.2' | '::1'; port?: number } = {}): Promise<EchoServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    echo.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const echo: EchoServer = {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return echo;
}

/** Sends `text` to 127.0.0.1:port and gathers what comes back until the peer closes or `timeoutMs` passes. */
export function exchange(port: number, text: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port });
    const done = () => { clearTimeout(timer); socket.destroy(); resolve(received); };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= text.length) done();
    });
    socket.on('error', done);
    socket.on('close', done);
  });
}

/** Waits until `check` holds, failing with `what` after timeoutMs. */
export async function eventually(check: () => boolean, timeoutMs = 3000, what = check.toString()): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still false after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** This machine's first non-loopback IPv4 address, if it has one: a local address that is not loopback. */
export function machineAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
}

/** What the box's sshd has logged so far (LogLevel VERBOSE: logins, refused forwards). */
export function boxLog(box: TunnelBox): Promise<string> {
  return readFile(join(box.dir, 'sshd.log'), 'utf8');
}

/**
 * The environment of each process the box's sshd runs for a login (the forced
 * command and what it execs), read from /proc: where a forwarded agent
 * (SSH_AUTH_SOCK) or X11 display (DISPLAY) would show.
 */
export async function sessionEnvironments(box: TunnelBox): Promise<Map<string, string>[]> {
  const found: Map<string, string>[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const raw = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    const env = new Map(raw.split('\0').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
    if (env.get('SSH_CONNECTION')?.endsWith(` ${box.port}`)) found.push(env);
  }
  return found;
}

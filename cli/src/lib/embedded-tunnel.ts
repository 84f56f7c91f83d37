import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import ssh2, { type AgentAuthMethod, type ClientErrorExtensions, type ConnectConfig, type ParsedKey, type PublicKeyAuthMethod, type ServerHostKeyAlgorithm } from 'ssh2';
import {
  TunnelAuthRefused, TunnelFailed, TunnelHostKeyMismatch, TunnelPortRefused, tunnelUserOf, type TunnelError, type TunnelLease,
} from './reverse-tunnel.js';

export interface EmbeddedTunnelOptions {
  lease: TunnelLease;
  /** Each connection a guest opened on the box's port, already accepted: hand it to the guests' SSH server. */
  onConnection: (stream: Duplex) => void;
  /** The private key the box knows us by; else ssh-agent and ~/.ssh's default keys, as ssh would pick. */
  identityFile?: string;
  /** Where SSH_AUTH_SOCK and HOME come from. */
  env?: Record<string, string | undefined>;
  /** How long the box gets to accept the forward. */
  readyTimeoutMs?: number;
}

export interface EmbeddedTunnel {
  /** Settles when the tunnel drops by itself (never after close()). */
  dropped: Promise<TunnelError>;
  /** Ends the connection; the box frees the port. Connections it carried end with it. */
  close(): Promise<void>;
}

// OpenSSH's own order when no key is named.
const defaultKeyFiles = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const closeGraceMs = 5_000;

/**
 * The reverse tunnel in-process, through ssh2's Client (issue 8): `forwardIn` on the box
 * as `tunnel` (`tunnel-private` for a private lease, which sshd binds to loopback), and every connection a guest makes to the leased port arrives here as a
 * stream, with no local port listening. The box's host key is pinned from the lease, and
 * failures are the same typed errors as the OpenSSH tunnel's, so the host flow treats both alike.
 */
export async function openEmbeddedTunnel({
  lease, onConnection, identityFile, env = process.env, readyTimeoutMs = 30_000,
}: EmbeddedTunnelOptions): Promise<EmbeddedTunnel> {
  const { port, tunnelHost, tunnelPort, tunnelHostKey } = lease;
  const where = `${tunnelHost}:${tunnelPort}`;
  const [pinnedType, pinnedBlob] = tunnelHostKey.trim().split(/\s+/);
  if (!pinnedType || !pinnedBlob) throw new TunnelFailed(`the lease's host key for ${where} is not an SSH public key`, '');
  const pinned = Buffer.from(pinnedBlob, 'base64');
  const boxUser = tunnelUserOf(lease);
  const authHandler = await authMethods(boxUser, identityFile, env);

  const client = new ssh2.Client();
  let hostKeyRefused = false;
  let lastError: (Error & Partial<ClientErrorExtensions>) | undefined;
  let closing = false;
  client.on('error', (error) => { lastError = error; });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.on('tcp connection', (info, accept, reject) => {
    if (closing || info.destPort !== port) return reject();
    const stream = accept();
    // ssh2's channels stay half-open; a guest's socket on the box is not. Without ending our side
    // too, the box never closes the channel, and a guest who left would look connected for ever.
    stream.once('end', () => stream.end());
    onConnection(stream);
  });

  const config: ConnectConfig = {
    host: tunnelHost, port: tunnelPort, username: boxUser, authHandler, readyTimeout: readyTimeoutMs,
    keepaliveInterval: 15_000, keepaliveCountMax: 3,
    // Only the pinned key's algorithm, so a box holding several host keys shows the one we can check.
    algorithms: { serverHostKey: hostKeyAlgorithms(pinnedType) },
    hostVerifier: (key: Buffer) => {
      hostKeyRefused = !key.equals(pinned);
      return !hostKeyRefused;
    },
  };

  const failure = (what: string): TunnelError => {
    const detail = lastError?.message ?? '';
    if (hostKeyRefused) return new TunnelHostKeyMismatch(`${what}: the box's host key is not the one the lease pinned`, detail);
    if (lastError?.level === 'client-authentication') return new TunnelAuthRefused(`${what}: the box refused our key`, detail);
    return new TunnelFailed(what, detail);
  };

  const close = async () => {
    closing = true;
    client.end();
    const cut = setTimeout(() => client.destroy(), closeGraceMs);
    await closed;
    clearTimeout(cut);
  };

  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<'ready'>((resolve) => client.once('ready', () => resolve('ready')));
  client.connect(config);
  // Keystrokes are a byte each: Nagle's algorithm would hold one back while the last is unacknowledged.
  // OpenSSH sets the same for interactive sessions; ssh2 leaves it to us.
  client.setNoDelay(true);
  const outcome = await Promise.race([
    ready.then(() => forward(client, port)),
    closed.then(() => 'closed' as const),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), readyTimeoutMs); }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'up') {
    await close();
    if (outcome === 'timeout') throw new TunnelFailed(`${where} did not set up the forward within ${readyTimeoutMs} ms`, lastError?.message ?? '');
    if (outcome === 'closed') throw failure(`the connection to ${where} ended before the forward was up`);
    throw new TunnelPortRefused(`the box would not listen on port ${port}`, outcome.message);
  }

  const dropped = closed.then(() => failure(`the tunnel to ${where} dropped`));
  return {
    dropped: new Promise((resolve) => void dropped.then((error) => { if (!closing) resolve(error); })),
    close,
  };
}

/** Asks the box to listen; 'up', or the box's refusal. */
function forward(client: ssh2.Client, port: number): Promise<'up' | Error> {
  return new Promise((resolve) => {
    // What `ssh -R port:…` asks for; the box account's GatewayPorts decides where it really listens.
    client.forwardIn('localhost', port, (error) => resolve(error ?? 'up'));
  });
}

function hostKeyAlgorithms(type: string): ServerHostKeyAlgorithm[] {
  // The lease holds a key type; an RSA key signs with any of these algorithms.
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type as ServerHostKeyAlgorithm];
}

/**
 * The keys to offer, in ssh's order: the named key (or ~/.ssh's default ones), then the agent.
 * A passphrase-protected key cannot be used here (nothing prompts); the agent may hold it unlocked.
 */
async function authMethods(boxUser: string, identityFile: string | undefined, env: Record<string, string | undefined>): Promise<(PublicKeyAuthMethod | AgentAuthMethod)[]> {
  const home = env.HOME || homedir();
  const files = identityFile ? [identityFile] : defaultKeyFiles.map((name) => join(home, '.ssh', name));
  const locked: string[] = [];
  const methods: (PublicKeyAuthMethod | AgentAuthMethod)[] = [];
  for (const file of files) {
    const key = await readPrivateKey(file, identityFile !== undefined);
    if (key === 'locked') locked.push(file);
    else if (key) methods.push({ type: 'publickey', username: boxUser, key });
  }
  if (env.SSH_AUTH_SOCK) methods.push({ type: 'agent', username: boxUser, agent: env.SSH_AUTH_SOCK });
  if (methods.length > 0) return methods;
  if (locked.length > 0) {
    throw new TunnelFailed(`${locked.join(', ')} ${locked.length > 1 ? 'are' : 'is'} passphrase-protected and no ssh-agent is running: `
      + 'start one and `ssh-add` the key, or name an unlocked key with --identity', '');
  }
  throw new TunnelFailed(`no SSH key to show the tunnel box: none of ~/.ssh/${defaultKeyFiles.join(', ')} exists and no ssh-agent is running; `
    + 'create one with `ssh-keygen -t ed25519` and add it with `tmuxme keys add`', '');
}

/** The parsed key, 'locked' when it needs a passphrase, undefined when an unnamed default file is absent. */
async function readPrivateKey(file: string, named: boolean): Promise<ParsedKey | 'locked' | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!named && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TunnelFailed(`cannot read the key ${file}: ${(error as Error).message}`, '');
  }
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) {
    if (/passphrase/i.test(parsed.message)) return 'locked';
    throw new TunnelFailed(`${file} is not a private key ssh2 can use: ${parsed.message}`, '');
  }
  return parsed;
}

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2, { type PublicKeyAuthMethod } from 'ssh2';

export interface ForwardOptions {
  host: string;
  port: number;
  /** `ssh-ed25519 AAAA…`: the box's host key, pinned as a host's known_hosts does. */
  hostPublicKey: string;
  user: string;
  privateKey: string;
  remotePort: number;
}

export interface HeldForward {
  /** From the TCP connect to the box accepting the forward, for the try that got it. */
  ms: number;
  /** Handshakes the box dropped before this one got through. */
  retries: number;
  /** Whether the connection ended without close(): the box dropped a forward it held. */
  readonly dropped: boolean;
  close(): Promise<void>;
}

/** What `ssh -R` sends without a bind address; the tunnel user's GatewayPorts yes binds every address anyway. */
const bindAddress = 'localhost';

/** One connection, held: what a host's `ssh -N -R PORT:localhost:22 tunnel@box` holds, opened as the CLI's embedded tunnel does. */
function tryForward(options: ForwardOptions): Promise<HeldForward> {
  const blob = Buffer.from(options.hostPublicKey.split(' ')[1]!, 'base64');
  const client = new ssh2.Client();
  return new Promise((resolve, reject) => {
    let start = 0;
    let done = false;
    let closing = false;
    let ended = false;
    const closed = new Promise<void>((resolveClosed) => client.once('close', () => { ended = true; resolveClosed(); }));
    const fail = (error: Error) => {
      if (done) return;
      done = true;
      client.end();
      reject(error);
    };
    client.on('error', fail);
    client.once('close', () => fail(new Error('the box closed the connection before the forward was accepted')));
    client.once('ready', () => {
      client.forwardIn(bindAddress, options.remotePort, (error) => {
        if (error) return fail(new Error(`the box refused the forward on port ${options.remotePort}: ${error.message}`));
        done = true;
        const ms = performance.now() - start;
        const close = async () => {
          closing = true;
          client.end();
          // A box too busy to answer the goodbye must not hold the clean-up up.
          const timer = setTimeout(() => client.destroy(), 10_000);
          await closed;
          clearTimeout(timer);
        };
        resolve({ ms, retries: 0, close, get dropped() { return ended && !closing; } });
      });
    });
    const key = ssh2.utils.parseKey(options.privateKey);
    if (key instanceof Error) return fail(key);
    const publicKey: PublicKeyAuthMethod = { type: 'publickey', username: options.user, key };
    start = performance.now();
    // As the CLI's embedded tunnel connects (cli/src/lib/embedded-tunnel.ts): the key alone, the pinned
    // host key's algorithm, a keepalive every 15 s (the idle load a box of such hosts carries), and Nagle
    // off: with it on, most steps of the login wait for the box's delayed ACK (measured on loopback:
    // about 200 ms a login, against 45–85 ms).
    client.connect({
      host: options.host, port: options.port, username: options.user, authHandler: [publicKey],
      hostVerifier: (hostKey: Buffer) => hostKey.equals(blob), algorithms: { serverHostKey: ['ssh-ed25519'] },
      readyTimeout: 60_000, keepaliveInterval: 15_000, keepaliveCountMax: 3,
    });
    client.setNoDelay(true);
  });
}

/** A refused key or port is final; a dropped or timed-out handshake (MaxStartups, a busy box) is tried again. */
const final = (error: Error) => /authentication methods failed|refused the forward|Host denied/.test(error.message);

export async function holdForward(options: ForwardOptions, maxRetries = 20): Promise<HeldForward> {
  for (let retries = 0; ; retries += 1) {
    try {
      const forward = await tryForward(options);
      forward.retries = retries;
      return forward;
    } catch (error) {
      if (final(error as Error) || retries === maxRetries) throw new Error(`forward to port ${options.remotePort} after ${retries} retries: ${(error as Error).message}`);
      await sleep(50 * (retries + 1));
    }
  }
}

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` ports from `first` up that nobody listens on now, on every address as the box's forwards bind
 * (`::` covers IPv4 too where the machine has IPv6), below the ephemeral range our own connections take.
 */
export async function freeForwardPorts(count: number, first: number): Promise<number[]> {
  const wildcard = await bindable(0, '::') ? '::' : '0.0.0.0';
  const ephemeral = Number((await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).split(/\s+/)[0]);
  const ports: number[] = [];
  for (let port = first; ports.length < count; port += 1) {
    if (port >= ephemeral) throw new Error(`only ${ports.length} free ports from ${first} below the ephemeral range (${ephemeral}); set BOX_FIRST_PORT lower`);
    if (await bindable(port, wildcard)) ports.push(port);
  }
  return ports;
}

import { spawn } from 'node:child_process';
import { writeTempKnownHosts } from './known-hosts.js';

/** Why a tunnel would not open (or dropped); `sshOutput` is the end of ssh's stderr, without its debug lines. */
export class TunnelError extends Error {
  constructor(message: string, readonly sshOutput: string) {
    super(sshOutput ? `${message}: ${sshOutput}` : message);
  }
}

/** The box does not (yet) know our key for a lease: right after leasing, it catches up within seconds. */
export class TunnelAuthRefused extends TunnelError {
  override name = 'TunnelAuthRefused';
}

/** The box would not listen on the port: taken, or not leased to us. Lease another. */
export class TunnelPortRefused extends TunnelError {
  override name = 'TunnelPortRefused';
}

/** The box's host key is not the one the lease pinned: never retried, someone may be in the middle. */
export class TunnelHostKeyMismatch extends TunnelError {
  override name = 'TunnelHostKeyMismatch';
}

/** Anything else: no route, timeout, ssh missing, a drop after the tunnel was up. */
export class TunnelFailed extends TunnelError {
  override name = 'TunnelFailed';
}

/** The parts of a port lease (GET /api/v1/pairing/port) the tunnel needs. */
export interface TunnelLease {
  /** The port guests will reach on the box. */
  port: number;
  tunnelHost: string;
  tunnelPort: number;
  /** `<type> <base64>`: the only key the box may present. */
  tunnelHostKey: string;
  /**
   * The box account the lease says to log in as: `tunnel`, or `tunnel-private`, whose sshd binds the
   * port to the box's loopback only, whatever we ask. Servers from before private leases name none.
   */
  tunnelUser?: string;
}

/** Who to log in to the box as for a lease (docs/architecture.md §5: the key says who we are, the account what we may bind). */
export const tunnelUserOf = (lease: Pick<TunnelLease, 'tunnelUser'>): string => lease.tunnelUser ?? 'tunnel';

export interface ReverseTunnelOptions {
  lease: TunnelLease;
  /** Where the box's port leads on this side: the host's sshd. */
  localPort?: number;
  localHost?: string;
  identityFile?: string;
  /**
   * More ssh arguments, e.g. `['-F', 'none', '-o', 'IdentitiesOnly=yes']`. ssh keeps the
   * first value it sees for an option, so these cannot undo the pinning set here.
   */
  sshArgs?: readonly string[];
  /** How long the box gets to accept the forward. */
  readyTimeoutMs?: number;
}

export interface ReverseTunnel {
  /** Settles when the tunnel drops by itself (never after close()). */
  dropped: Promise<TunnelError>;
  /** Ends ssh (SIGTERM, then SIGKILL if it lingers) and waits for it; the box frees the port. */
  close(): Promise<void>;
  /** ssh's process id. */
  pid: number;
}

const stderrLinesKept = 200;

/**
 * `ssh -R <port>:127.0.0.1:22 tunnel@<box>` (or `tunnel-private@`, as the lease says) with OpenSSH, resolved once the
 * box confirms the forward. The host's own ssh config, keys and agent are
 * used (that is how their key reaches the box), except where they would break
 * the guarantees here: the box's key is pinned from the lease, nothing
 * prompts, and no connection sharing (a ControlMaster would carry the forward
 * and hide its outcome). `-v` is how we learn the outcome: OpenSSH prints
 * `remote forward success for: listen <port>` (debug1) once the box listens.
 */
export async function openReverseTunnel({
  lease, localPort = 22, localHost = '127.0.0.1', identityFile, sshArgs = [], readyTimeoutMs = 30_000,
}: ReverseTunnelOptions): Promise<ReverseTunnel> {
  const { port, tunnelHost, tunnelPort, tunnelHostKey } = lease;
  const knownHosts = await writeTempKnownHosts([{ host: tunnelHost, port: tunnelPort, publicKey: tunnelHostKey }]);
  const child = spawn('ssh', [
    '-v', '-N', '-T',
    '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes',
    '-o', `UserKnownHostsFile=${knownHosts.file}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'UpdateHostKeys=no',
    '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3', '-o', 'ConnectTimeout=15',
    '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
    ...(identityFile ? ['-i', identityFile] : []),
    ...sshArgs,
    '-p', String(tunnelPort), '-R', `${port}:${localHost}:${localPort}`, `${tunnelUserOf(lease)}@${tunnelHost}`,
  ], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own session: the hang-up or Ctrl-C meant for the host's terminal must not drop the tunnel under a
    // session that is ending in order; close() ends it. With BatchMode it never needs a terminal.
    detached: true,
  });

  const stderr = watchStderr(child.stderr, port);
  let closing = false;
  const exited = new Promise<void>((resolve) => {
    // 'close', not 'exit': by then every line ssh wrote has been read.
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => { spawnError = error; });
  void exited.then(() => knownHosts.remove());

  const close = async () => {
    closing = true;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM');
      const lingering = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(lingering);
    }
    await knownHosts.remove();
  };

  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    stderr.forwarded.then(() => 'up' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), readyTimeoutMs); }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'up') {
    await close();
    if (spawnError) throw new TunnelFailed(`could not run ssh (is the OpenSSH client installed?): ${spawnError.message}`, '');
    if (outcome === 'timeout') throw new TunnelFailed(`${tunnelHost}:${tunnelPort} did not set up the forward within ${readyTimeoutMs} ms`, stderr.tail());
    throw stderr.failure(`ssh to ${tunnelHost}:${tunnelPort} ended before the forward was up`);
  }

  const dropped = exited.then(() => stderr.failure(`the tunnel to ${tunnelHost}:${tunnelPort} dropped`));
  return {
    dropped: new Promise((resolve) => void dropped.then((error) => { if (!closing) resolve(error); })),
    close,
    pid: child.pid!,
  };
}

/** Reads ssh's stderr line by line: notices the forward going up, and remembers the lines that explain a failure. */
function watchStderr(stream: NodeJS.ReadableStream, port: number) {
  const lines: string[] = [];
  let partial = '';
  let markForwarded: () => void;
  const forwarded = new Promise<void>((resolve) => { markForwarded = resolve; });
  const success = `debug1: remote forward success for: listen ${port},`;
  stream.on('data', (chunk: Buffer) => {
    const pieces = (partial + chunk.toString()).split('\n');
    partial = pieces.pop() ?? '';
    for (const line of pieces.map((piece) => piece.trimEnd())) {
      if (line.startsWith(success)) markForwarded();
      lines.push(line);
      if (lines.length > stderrLinesKept) lines.shift();
    }
  });
  const said = (pattern: RegExp) => lines.some((line) => pattern.test(line));
  const tail = () => {
    const plain = lines.filter((line) => line && !line.startsWith('debug') && !/^OpenSSH_/.test(line) && !/^@+$/.test(line));
    return plain.slice(-6).join('\n');
  };
  const failure = (what: string): TunnelError => {
    if (said(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for/)) {
      return new TunnelHostKeyMismatch(`${what}: the box's host key is not the one the lease pinned`, tail());
    }
    if (said(/Permission denied \(/)) {
      // The box took the key but ssh could not sign with it: waiting for the box would not help.
      if (said(/^debug1: Server accepts key:/)) {
        return new TunnelFailed(`${what}: the box knows your key, but ssh could not use it (is it passphrase-protected and not loaded into ssh-agent?)`, tail());
      }
      return new TunnelAuthRefused(`${what}: the box refused our key`, tail());
    }
    if (said(/remote port forwarding failed for listen port/)) return new TunnelPortRefused(`${what}: the box would not listen on port ${port}`, tail());
    return new TunnelFailed(what, tail());
  };
  return { forwarded, tail, failure };
}

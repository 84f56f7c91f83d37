import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The tunnel account that the file's group comes from, made the way infra/tunnel-box/setup.sh makes
 * it when it is missing. Returns the group's id.
 */
export async function ensureTunnelAccount(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('these tests chown files to root:tunnel and need root');
  const exists = () => run('getent', ['passwd', 'tunnel']).then(() => true, () => false);
  if (!(await exists())) {
    await run('useradd', ['--system', '--user-group', '--create-home', '--home-dir', '/home/tunnel', '--shell', '/bin/sh', '--comment', 'tmux.me tunnel', 'tunnel'])
      .catch(async (error) => {
        if (!(await exists())) throw error; // else another test run made it meanwhile
      });
  }
  const { stdout } = await run('getent', ['group', 'tunnel']);
  return Number(stdout.split(':')[2]);
}

export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tunnel-sync-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface PollSummary {
  reads: number;
  lines: { first: number; last: number; shrank: number };
  problems: string[];
  problemCount: number;
}

/** Starts poll-file.ts on a file that exists; `stop()` returns what it saw. */
export async function pollFile(file: string, gid: number, check: 'counted' | 'authorized-keys') {
  const script = fileURLToPath(new URL('./poll-file.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, file, String(gid), check], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  while (!output.includes('ready\n')) {
    if (child.exitCode !== null) throw new Error(`poll-file exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    async stop(): Promise<PollSummary> {
      child.stdin.end();
      await once(child, 'close');
      return JSON.parse(output.split('\n').filter(Boolean).at(-1)!) as PollSummary;
    },
  };
}

/**
 * Forwards snapshot requests to the real keys and sessions apps by path, and can hold the key pages
 * back, so a test can publish events while tunnel-sync is in the middle of reading a snapshot.
 */
export async function snapshotGate(keysUrl: string, sessionsUrl: string) {
  const held: (() => void)[] = [];
  let holding = false;
  const server = createHttpServer((request, response) => {
    const url = request.url ?? '';
    const forward = async () => {
      const upstream = await fetch(`${url.includes('/snapshot/keys') ? keysUrl : sessionsUrl}${url}`, {
        headers: { authorization: request.headers.authorization ?? '' },
      });
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      response.end(await upstream.text());
    };
    if (holding && url.includes('/snapshot/keys')) held.push(() => void forward());
    else void forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold() {
      holding = true;
    },
    /** Resolves once a key page is being held. */
    async waitForHeld() {
      while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    },
    release() {
      holding = false;
      held.splice(0).forEach((go) => go());
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

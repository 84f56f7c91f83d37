import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './net.js';

export const ferretdbBinary = process.env.FERRETDB_BIN
  ?? resolve(fileURLToPath(import.meta.url), '../../../../infra/ferretdb/bin/ferretdb');

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export interface FerretDBOptions {
  /** `sqlite` (default: a fresh data folder) or `postgresql` (a database that must exist). */
  handler?: 'sqlite' | 'postgresql';
  postgresqlUrl?: string;
}

/** A running FerretDB that a test can also take down for a while, keeping its port and data. */
export interface FerretDB extends RunningServer {
  /** Stops the server process, as an outage would; its data stays. */
  halt(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  restart(): Promise<void>;
}

/** A FerretDB of our own on a free loopback port, with a fresh SQLite data folder or the given PostgreSQL database. */
export async function startFerretDB({ handler = 'sqlite', postgresqlUrl }: FerretDBOptions = {}): Promise<FerretDB> {
  if (!existsSync(ferretdbBinary)) {
    throw new Error(`FerretDB is not built (${ferretdbBinary} is missing): run \`bash infra/ferretdb/build.sh\` or \`npm test\`, which builds it`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tmuxme-ferretdb-'));
  const port = await freePort();
  const backend = handler === 'postgresql' ? ['-postgresql-url', postgresqlUrl ?? ''] : ['-data', dataDir];
  const args = ['-listen', `127.0.0.1:${port}`, '-handler', handler, ...backend];
  let child = await launch(args, port);
  const halt = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await gone;
  };
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    halt,
    async restart() {
      await halt();
      child = await launch(args, port);
    },
    async stop() {
      await halt();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(ferretdbBinary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`FerretDB exited with ${code} before it listened:\n${stderr}`)));
  });
  await Promise.race([waitForPort(port, 20_000), exited]);
  return child;
}

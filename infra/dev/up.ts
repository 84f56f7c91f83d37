/**
 * Runs tmux.me on this machine with embedded defaults: FerretDB (SQLite, in
 * .local/), the local RabbitMQ, and every service, each as its own process as
 * in production. Ctrl-C stops everything this script started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateSigningKeys } from '@tmuxme/auth';
import { canConnect, ferretdbBinary, waitForPort } from '@tmuxme/testing';

const root = resolve(import.meta.dirname, '../..');
const local = resolve(root, '.local');
const children: { name: string; child: ChildProcess }[] = [];

function signingKeys(): { privateKey: string; publicKey: string } {
  const file = resolve(local, 'jwt-keys.json');
  if (!existsSync(file)) writeFileSync(file, JSON.stringify(generateSigningKeys()), { mode: 0o600 });
  return JSON.parse(readFileSync(file, 'utf8'));
}

function start(name: string, command: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `${name.padEnd(9)}| `;
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => process.stdout.write(chunk.toString().trimEnd().split('\n').map((l) => prefix + l).join('\n') + '\n'));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  children.push({ name, child });
}

let stopping = false;
async function stop(code = 0) {
  stopping = true;
  for (const { child } of [...children].reverse()) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
  process.exit(code);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

mkdirSync(local, { recursive: true });
const mongoBase = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/';
if (!process.env.MONGODB_URI) {
  if (await canConnect(27017)) {
    console.log('something already listens on 127.0.0.1:27017; using it as the database server');
  } else {
    start('ferretdb', ferretdbBinary, ['-listen', '127.0.0.1:27017', '-data', resolve(local, 'ferretdb')]);
    await waitForPort(27017, 20_000);
  }
}
const database = (name: string) => {
  const url = new URL(mongoBase);
  url.pathname = `/${name}`;
  return url.toString();
};

const keys = signingKeys();
const common = { AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', JWT_PUBLIC_KEY: keys.publicKey };
const services: [string, number, Record<string, string>][] = [
  ['accounts', 3001, { MONGODB_URI: database('accounts'), JWT_PRIVATE_KEY: keys.privateKey }],
  ['keys', 3002, { MONGODB_URI: database('keys') }],
  ['gateway', 8080, {}],
];
for (const [name, port, env] of services) {
  // Node itself runs main.ts (tsx only loads it), so SIGTERM reaches the service's graceful shutdown.
  start(name, process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], { ...common, ...env, PORT: String(port) });
}
for (const [, port] of services) await waitForPort(port, 60_000);

console.log(`
tmux.me is up:
  gateway (API and pages)   http://127.0.0.1:8080
  try it                    curl -s http://127.0.0.1:8080/api/v1/users -H 'content-type: application/json' \\
                              -d '{"username":"alice","email":"alice@example.com","password":"correct horse battery","passwordConfirmation":"correct horse battery"}'
  data                      ${process.env.MONGODB_URI ? mongoBase : '.local/ferretdb (FerretDB on SQLite, 127.0.0.1:27017)'}
Ctrl-C stops everything started here.`);

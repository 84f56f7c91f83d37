/**
 * Runs tmux.me on this machine with embedded defaults: FerretDB (SQLite, in
 * .local/), the local RabbitMQ, a mail catcher, a tunnel box when run as
 * root, and every service, each as its own process as in production.
 * Ctrl-C stops everything this script started.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

function secret(name: string): string {
  const file = resolve(local, name);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8');
}

/**
 * As root: a private sshd on 127.0.0.1:2222 with its own key directory, which
 * tunnel-sync keeps. Otherwise only a host key, so leases still carry one.
 */
async function tunnelBox(): Promise<{ port: number; hostKey: string; authorizedKeysFile?: string }> {
  const port = Number(process.env.TUNNEL_PORT ?? 2222);
  if (process.getuid?.() === 0) {
    const dir = '/var/lib/tmuxme/tunnel-box';
    const output = execFileSync('bash', ['infra/tunnel-box/setup.sh', 'start', '--dir', dir, '--port', String(port)], { cwd: root, encoding: 'utf8' });
    boxDir = dir;
    return { port, hostKey: /^host key: (.+)$/m.exec(output)![1]!.trim(), authorizedKeysFile: `${dir}/authorized_keys` };
  }
  const keyFile = resolve(local, 'tunnel_host_ed25519_key');
  if (!existsSync(keyFile)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', keyFile]);
  return { port, hostKey: readFileSync(`${keyFile}.pub`, 'utf8').trim() };
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
let boxDir: string | undefined;
async function stop(code = 0) {
  stopping = true;
  for (const { child } of [...children].reverse()) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
  if (boxDir) execFileSync('bash', ['infra/tunnel-box/setup.sh', 'stop', '--dir', boxDir], { cwd: root, stdio: 'inherit' });
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
const serviceToken = secret('service-token');
const box = await tunnelBox();
const common = { AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', JWT_PUBLIC_KEY: keys.publicKey, SERVICE_TOKEN: serviceToken };
const services: [string, number, Record<string, string>][] = [
  ['accounts', 3001, { MONGODB_URI: database('accounts'), JWT_PRIVATE_KEY: keys.privateKey }],
  ['keys', 3002, { MONGODB_URI: database('keys') }],
  ['sessions', 3003, { MONGODB_URI: database('sessions'), TUNNEL_HOST: '127.0.0.1', TUNNEL_PORT: String(box.port), TUNNEL_HOST_KEY: box.hostKey }],
  ['notifier', 3004, { MONGODB_URI: database('notifier'), SMTP_URL: 'smtp://127.0.0.1:1025' }],
  ...(box.authorizedKeysFile
    ? [['tunnel-sync', 3005, { MONGODB_URI: database('tunnel-sync'), TUNNEL_HOST: '127.0.0.1', AUTHORIZED_KEYS_FILE: box.authorizedKeysFile }] as [string, number, Record<string, string>]]
    : []),
  ['gateway', 8080, {}],
];
start('mail', process.execPath, ['--import', 'tsx', 'infra/dev/mail-catcher.ts']);
for (const [name, port, env] of services) {
  // Node itself runs main.ts (tsx only loads it), so SIGTERM reaches the service's graceful shutdown.
  start(name, process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], { ...common, ...env, PORT: String(port) });
}
for (const port of [1025, 8025, ...services.map(([, p]) => p)]) await waitForPort(port, 60_000);

console.log(`
tmux.me is up:
  gateway (API and pages)   http://127.0.0.1:8080
  mail catcher              http://127.0.0.1:8025 (SMTP on 127.0.0.1:1025)
  tunnel box                ${box.authorizedKeysFile ? `127.0.0.1:${box.port} (sshd; host key ${box.hostKey})` : 'not started: run as root to get one on 127.0.0.1:2222'}
  point the CLI at it       export TMUXME_SERVER=http://127.0.0.1:8080
  try it                    curl -s http://127.0.0.1:8080/api/v1/users -H 'content-type: application/json' \\
                              -d '{"username":"alice","email":"alice@example.com","password":"correct horse battery","passwordConfirmation":"correct horse battery"}'
  data                      ${process.env.MONGODB_URI ? mongoBase : '.local/ferretdb (FerretDB on SQLite, 127.0.0.1:27017)'}
Ctrl-C stops everything started here.`);

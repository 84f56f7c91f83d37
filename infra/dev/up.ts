/**
 * Runs tmux.me on this machine with embedded defaults: FerretDB (SQLite, in
 * .local/), the local RabbitMQ, Mailpit as the mail catcher, TUNNEL_BOXES tunnel boxes
 * (default 2) when run as root, and every service, each as its own process as
 * in production. Ctrl-C stops everything this script started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateSigningKeys } from '@tmuxme/auth';
import { canConnect, ferretdbBinary, mailpitBinary, waitForPort } from '@tmuxme/testing';
import { boxCount, boxesInRotation, describeBox, devBoxes, startBoxSshd, stopBoxSshd, tunnelSyncEnv, type DevBox } from './tunnel-boxes.js';

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

function start(name: string, command: string, args: string[], env: Record<string, string> = {}) {
  // A process group of its own: Ctrl-C reaches this script alone, which stops each child once (a
  // service that got SIGINT from the terminal and then SIGTERM from here would skip its graceful exit).
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const prefix = `${name.padEnd(13)}| `;
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
/** Boxes whose sshd runs: stopped after every process, so each tunnel-sync's last heartbeat says it drains. */
const startedBoxes: DevBox[] = [];
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const { child } of [...children].reverse()) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)));
  for (const box of startedBoxes) {
    try {
      stopBoxSshd(box, root);
    } catch (error) {
      console.error(`could not stop ${box.id}'s sshd: ${(error as Error).message}`);
    }
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop());

// Checked before anything starts. As root, each box is an sshd of its own (setup.sh) plus its own tunnel-sync; as another user, none.
let boxes: DevBox[];
try {
  boxes = process.getuid?.() === 0 ? devBoxes(boxCount()) : [];
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
if (!existsSync(mailpitBinary)) {
  console.error(`Mailpit is not built (${mailpitBinary} is missing): run \`bash infra/dev/ensure.sh\` (\`npm run up\` runs it)`);
  process.exit(2);
}

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
try {
  for (const box of boxes) {
    box.hostKey = startBoxSshd(box, root);
    startedBoxes.push(box);
  }
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}
const common = { AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', JWT_PUBLIC_KEY: keys.publicKey, SERVICE_TOKEN: serviceToken };
const services: [string, number, Record<string, string>][] = [
  ['accounts', 3001, { MONGODB_URI: database('accounts'), JWT_PRIVATE_KEY: keys.privateKey }],
  ['keys', 3002, { MONGODB_URI: database('keys') }],
  // No box is configured in sessions: it leases on the boxes whose heartbeats it hears.
  ['sessions', 3003, { MONGODB_URI: database('sessions') }],
  ['notifier', 3004, { MONGODB_URI: database('notifier'), SMTP_URL: 'smtp://127.0.0.1:1025' }],
  ...boxes.map((box): [string, number, Record<string, string>] => [`tunnel-sync-${box.n}`, box.httpPort, tunnelSyncEnv(box, database)]),
  ['gateway', 8080, {}],
];
// The mail catcher compose runs. Its mails live in a temporary database that Mailpit deletes when it stops, as
// compose's do in its container; nothing it does reaches the network (no release check, no reverse DNS).
start('mailpit', mailpitBinary, ['--smtp', '127.0.0.1:1025', '--listen', '127.0.0.1:8025', '--disable-version-check', '--smtp-disable-rdns']);
for (const [name, port, env] of services) {
  // Node itself runs main.ts (tsx only loads it), so SIGTERM reaches the service's graceful shutdown.
  const folder = name.replace(/-\d+$/, '');
  start(name, process.execPath, ['--import', 'tsx', `services/${folder}/src/main.ts`], { ...common, ...env, PORT: String(port) });
}
for (const port of [1025, 8025, ...services.map(([, p]) => p)]) await waitForPort(port, 60_000);
// A box takes leases once sessions has its first heartbeat (every 5 s).
if (boxes.length > 0 && !(await boxesInRotation(3003, boxes.length, 20_000))) {
  console.error(`sessions has not heard from all ${boxes.length} tunnel boxes yet: leases may answer 503 NO_TUNNEL_BOX for a while (see the tunnel-sync lines above)`);
}
const boxLines = boxes.length > 0
  ? boxes.map(describeBox).join('\n                            ')
  : `none: not run as root, so leases answer 503 NO_TUNNEL_BOX.
                            Run \`npm run up\` as root for TUNNEL_BOXES boxes (default 2, on 127.0.0.1:2222 and :2223)`;

console.log(`
tmux.me is up:
  gateway (API and pages)   http://127.0.0.1:8080
  mail catcher (Mailpit)    http://127.0.0.1:8025/view/latest.txt, the newest mail (or .html); SMTP on 127.0.0.1:1025
                            every mail: http://127.0.0.1:8025/api/v1/messages, one: /api/v1/message/<ID>
  tunnel boxes              ${boxLines}
  point the CLI at it       export TMUXME_SERVER=http://127.0.0.1:8080
  try it                    curl -s http://127.0.0.1:8080/api/v1/users -H 'content-type: application/json' \\
                              -d '{"username":"alice","email":"alice@example.com","password":"correct horse battery","passwordConfirmation":"correct horse battery"}'
  data                      ${process.env.MONGODB_URI ? mongoBase : '.local/ferretdb (FerretDB on SQLite, 127.0.0.1:27017)'}
Ctrl-C stops everything started here.`);

/**
 * tunnel-sync on a real tunnel box (its own sshd, as root), fed by real events on RabbitMQ and by the
 * real keys and sessions apps' snapshots, each on FerretDB:
 *
 *   - PortLeased published → a successful `ssh -R` on that port (and → the port in the file);
 *   - KeyAdded published → the key in the file;
 *   - SessionDeclared published → the guest's channel through the jump user (`ssh -W 127.0.0.1:<port> join@box`)
 *     reaches the host's port, and SessionEnded → that way in refused again;
 *   - convergence of an empty box from snapshots of KEYS keys and LEASES live leases;
 *   - one sshd login with LEASES lines in the file against 10.
 *
 *   sudo npm run bench:tunnel-sync        (SAMPLES=200 KEYS=100000 LEASES=10000 LOGINS=20 by default;
 *                                          BENCH_QUICK=1: 10, 2000, 500, 5)
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, KeyAdded, PortLeased, SessionDeclared, SessionEnded } from '@tmuxme/events';
import {
  buildApp, canConnect, freePort, generateSshKey, jumpConnect, knownHostsLine, openReverseTunnel, startTestServers, startTunnelBox, tunnelSshArgs, uniqueName, type TunnelBox,
} from '@tmuxme/testing';
import { generateSigningKeys } from '@tmuxme/auth';
import tunnelSyncApp, { type ConvergeReport, type TunnelSyncOptions } from '@tmuxme/tunnel-sync';
import keysApp from '@tmuxme/keys/app';
import sessionsApp from '@tmuxme/sessions/app';
import { figures } from './src/report.js';
import { size } from './src/sizes.js';
import { uniqueDatabaseUrl } from './src/stack.js';
import { percentile } from './src/stats.js';

const samples = size('SAMPLES', 200, 10);
const keyCount = size('KEYS', 100_000, 2000);
const leaseCount = size('LEASES', 10_000, 500);
const loginCount = size('LOGINS', 20, 5);
if (leaseCount > keyCount) throw new Error(`LEASES (${leaseCount}) cannot exceed KEYS (${keyCount}): every lease holder has a key`);
const serviceToken = randomBytes(24).toString('hex');
const tunnelHost = 'bench-box.tunnel.test';

const figure = figures('tunnel-sync');
const servers = await startTestServers();
const { amqpUrl } = servers;
const databaseUrl = (name: string) => uniqueDatabaseUrl(servers.mongoUrl, name);
const exchanges = () => ({ exchange: `tmuxme.events.${uniqueName('bench')}`, deadLetterExchange: `tmuxme.dlx.${uniqueName('bench')}` });
const workDir = await mkdtemp(join(tmpdir(), 'bench-tunnel-sync-'));
const cleanUps: (() => Promise<unknown>)[] = [async () => rm(workDir, { recursive: true, force: true })];
const since = (start: number) => performance.now() - start;

function tunnelSyncOptions(box: TunnelBox, overrides: Partial<TunnelSyncOptions> = {}): TunnelSyncOptions {
  return { mongoUrl: databaseUrl('tunnel_sync'), amqpUrl, ...exchanges(), tunnelHost, queue: uniqueName('tunnel-sync'), authorizedKeysFile: box.authorizedKeysFile, ...overrides };
}

async function started<T extends { close(): Promise<unknown> }>(thing: Promise<T>): Promise<T> {
  const value = await thing;
  cleanUps.unshift(() => value.close());
  return value;
}

async function startedBox(): Promise<TunnelBox> {
  const box = await startTunnelBox();
  cleanUps.unshift(() => box.stop());
  return box;
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const fileHas = (box: TunnelBox, text: string, file = box.authorizedKeysFile) => until(async () => (await readFile(file, 'utf8')).includes(text));

interface Person { userId: string; username: string; keyId: string; key: string; privateKeyPath: string }

async function person(name: string): Promise<Person> {
  const generated = await generateSshKey('ed25519');
  const privateKeyPath = join(workDir, name);
  await writeFile(privateKeyPath, generated.privateKey, { mode: 0o600 });
  return { userId: `u-${name}`, username: name.slice(0, 39), keyId: randomBytes(12).toString('hex'), key: generated.publicKey.trim().split(' ').slice(0, 2).join(' '), privateKeyPath };
}

const keyAdded = (p: Person) => createEnvelope(KeyAdded, { keyId: p.keyId, userId: p.userId, username: p.username, type: 'ssh-ed25519', key: p.key, fingerprint: '' }, { producer: 'keys' });
const portLeased = (p: Person, port: number) => createEnvelope(PortLeased, {
  leaseId: randomBytes(12).toString('hex'), userId: p.userId, username: p.username, boxId: tunnelHost, tunnelHost, port, expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
}, { producer: 'sessions' });

/**
 * Per sample: PortLeased, then KeyAdded → file (timed); a second PortLeased → `ssh -R` on its port
 * (timed, and → file); then `ssh -R` once more on that port, now allowed, for what ssh alone costs.
 */
async function eventLatencies(box: TunnelBox) {
  const options = tunnelSyncOptions(box);
  await started(buildApp(tunnelSyncApp, options));
  const bus = await started(Bus.connect({ url: amqpUrl, producer: 'bench', ...options }));
  const target = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  cleanUps.unshift(() => new Promise((resolve) => target.close(resolve)));
  const targetPort = (target.address() as { port: number }).port;
  const times = { keyToFile: [] as number[], leaseToFile: [] as number[], leaseToTunnel: [] as number[], tunnelAlone: [] as number[] };
  const tunnel = (p: Person, port: number) =>
    openReverseTunnel({ box, privateKeyPath: p.privateKeyPath, remotePort: port, target: { host: '127.0.0.1', port: targetPort } });
  for (let i = 0; i < samples; i += 1) {
    const p = await person(`bench-${i}`);
    await bus.publish(portLeased(p, await freePort()));
    let start = performance.now();
    await bus.publish(keyAdded(p));
    await fileHas(box, p.keyId);
    times.keyToFile.push(since(start));

    const port = await freePort();
    start = performance.now();
    await bus.publish(portLeased(p, port));
    const inFile = fileHas(box, `permitlisten="${port}"`).then(() => times.leaseToFile.push(since(start)));
    // Refused while the line is not there yet: try again at once, as a host's CLI would.
    let forward: Awaited<ReturnType<typeof tunnel>> | undefined;
    for (let tries = 0; !forward; tries += 1) {
      if (tries === 20) throw new Error(`ssh -R ${port} was still refused after 20 tries`);
      forward = await tunnel(p, port).catch(() => undefined);
    }
    times.leaseToTunnel.push(since(start));
    await forward.close();
    await inFile;
    // sshd drops the listener a moment after its client went.
    await until(async () => !(await canConnect(port)));
    start = performance.now();
    await (await tunnel(p, port)).close();
    times.tunnelAlone.push(since(start));
  }
  return times;
}

const sessionDeclared = (sessionId: string, host: Person, guest: Person, port: number) => createEnvelope(SessionDeclared, {
  sessionId, host: { userId: host.userId, username: host.username }, guests: [{ userId: guest.userId, username: guest.username, access: 'rw' }],
  boxId: tunnelHost, tunnelHost, tunnelPort: 22, port, private: false, joinCommand: `ssh -p ${port} tmuxme@${tunnelHost}`,
  jumpJoinCommand: `ssh -J join@${tunnelHost} -p ${port} tmuxme@127.0.0.1`,
}, { producer: 'sessions' });

/** Tries the guest's channel through the jump user until `works` says it did what was expected; ms from `start`. */
async function jumpUntil(box: TunnelBox, guest: Person, port: number, start: number, works: (greeting: string | undefined) => boolean): Promise<number> {
  for (let tries = 0; ; tries += 1) {
    if (tries === 50) throw new Error(`the jump channel to port ${port} did not change after 50 tries`);
    const greeting = await jumpConnect({ box, privateKeyPath: guest.privateKeyPath, target: `127.0.0.1:${port}`, timeoutMs: 5_000 }).catch(() => undefined);
    if (works(greeting)) return since(start);
  }
}

/**
 * Per sample: a guest's key and a host's lease on a port where a listener stands in for the host's forward;
 * then SessionDeclared → the guest's channel through the jump user reaches it (tried again at once while
 * refused, as a guest would), and SessionEnded → the jump user refuses it again.
 */
async function joinLatencies(box: TunnelBox) {
  const options = tunnelSyncOptions(box);
  await started(buildApp(tunnelSyncApp, options));
  const bus = await started(Bus.connect({ url: amqpUrl, producer: 'bench', ...options }));
  const times = { declaredToChannel: [] as number[], declaredToFile: [] as number[], channelAlone: [] as number[], endedToRefused: [] as number[] };
  for (let i = 0; i < samples; i += 1) {
    const [host, guest] = [await person(`host-${i}`), await person(`guest-${i}`)];
    const forward = createServer((socket) => { socket.on('error', () => socket.destroy()); socket.end('host\n'); });
    await new Promise<void>((resolve) => forward.listen(0, '127.0.0.1', resolve));
    const port = (forward.address() as { port: number }).port;
    try {
      for (const event of [keyAdded(guest), keyAdded(host), portLeased(host, port)]) await bus.publish(event);
      // Handled in order: the host's line in the tunnel file means the guest's key is known too.
      await fileHas(box, `permitlisten="${port}"`);
      const sessionId = randomBytes(12).toString('hex');
      let start = performance.now();
      await bus.publish(sessionDeclared(sessionId, host, guest, port));
      const inFile = fileHas(box, `permitopen="127.0.0.1:${port}"`, box.joinAuthorizedKeysFile).then(() => times.declaredToFile.push(since(start)));
      times.declaredToChannel.push(await jumpUntil(box, guest, port, start, (greeting) => greeting === 'host\n'));
      await inFile;
      start = performance.now();
      times.channelAlone.push(await jumpUntil(box, guest, port, start, (greeting) => greeting === 'host\n'));
      start = performance.now();
      await bus.publish(createEnvelope(SessionEnded, { sessionId, boxId: tunnelHost, reason: 'ended' }, { producer: 'sessions' }));
      times.endedToRefused.push(await jumpUntil(box, guest, port, start, (greeting) => greeting === undefined));
    } finally {
      await new Promise((resolve) => forward.close(resolve));
    }
  }
  return times;
}

/** An ed25519 public key blob; sshd only compares blobs, so random points serve. */
function randomKey(): { blob: string; fingerprint: string } {
  const wire = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  const blob = Buffer.concat([wire(Buffer.from('ssh-ed25519')), wire(randomBytes(32))]);
  return { blob: blob.toString('base64'), fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` };
}

/**
 * keys and sessions, listening, started on databases filled by insertMany (the probe user included): each
 * loads its live view at start, which is timed apart from the convergence.
 */
async function seededSources(probe: Person) {
  const common = { amqpUrl, jwtPublicKey: generateSigningKeys().publicKey, serviceToken };
  const keysUrl = databaseUrl('keys');
  const sessionsUrl = databaseUrl('sessions');
  const now = new Date();
  const users = Array.from({ length: keyCount }, (_, i) => ({ userId: `u-${String(i).padStart(6, '0')}`, username: `user${i}` }));
  users[leaseCount - 1] = { userId: probe.userId, username: probe.username };
  const keyDocs = users.map((user, i) => ({
    _id: new mongoose.Types.ObjectId(), ...user, title: 'bench', type: 'ssh-ed25519', createdAt: now, eventIds: [], deletedAt: null,
    ...(user.userId === probe.userId ? { blob: probe.key.split(' ')[1]!, fingerprint: `SHA256:probe-${i}` } : randomKey()),
  }));
  const leaseDocs = users.slice(0, leaseCount).map((user, i) => ({
    _id: new mongoose.Types.ObjectId(), ...user, boxId: tunnelHost, tunnelHost, tunnelPort: 22, port: 1024 + i,
    expiresAt: new Date(Date.now() + 3_600_000), createdAt: now, eventIds: [], deletedAt: null,
  }));
  // Each key with its slot and fingerprint claims, as keys writes them: a start then only loads the view.
  const slotDocs = keyDocs.map((key) => ({ _id: `${key.userId}:0`, keyId: key._id.toHexString(), createdAt: now }));
  const fingerprintDocs = keyDocs.map((key) => ({ _id: key.fingerprint, keyId: key._id.toHexString(), userId: key.userId, createdAt: now }));
  const seeds = [[keysUrl, 'keys', keyDocs], [keysUrl, 'key_slots', slotDocs], [keysUrl, 'key_fingerprints', fingerprintDocs], [sessionsUrl, 'leases', leaseDocs]] as const;
  for (const [url, collection, docs] of seeds) {
    const connection = await mongoose.createConnection(url).asPromise();
    for (let i = 0; i < docs.length; i += 10_000) await connection.collection<{ _id: unknown }>(collection).insertMany(docs.slice(i, i + 10_000) as { _id: unknown }[]);
    await connection.close();
  }
  const start = performance.now();
  const [keys, sessions] = await Promise.all([
    started(buildApp(keysApp, { ...common, ...exchanges(), mongoUrl: keysUrl, queue: uniqueName('keys') })),
    started(buildApp(sessionsApp, { ...common, ...exchanges(), mongoUrl: sessionsUrl, queue: uniqueName('sessions') })),
  ]);
  const viewsLoadedMs = since(start);
  return {
    keysUrl: await keys.listen({ port: 0, host: '127.0.0.1' }),
    sessionsUrl: await sessions.listen({ port: 0, host: '127.0.0.1' }),
    probePort: leaseDocs.at(-1)!.port,
    viewsLoadedMs,
  };
}

/** Median of LOGINS full logins (`ssh … true`: the forced command ends at once on an empty stdin). */
async function loginMs(box: TunnelBox, probe: Person): Promise<number> {
  const knownHosts = join(workDir, `known_hosts-${box.port}`);
  await writeFile(knownHosts, knownHostsLine(box));
  const times: number[] = [];
  for (let i = 0; i < loginCount; i += 1) {
    const start = performance.now();
    await promisify(execFile)('ssh', ['-n', ...tunnelSshArgs(box, probe.privateKeyPath, knownHosts), `tunnel@${box.host}`]);
    times.push(since(start));
  }
  return percentile(times, 50);
}

/** An empty box converging from the snapshots; logins before (10 lines, from events) and after. */
async function convergence(box: TunnelBox) {
  const probe = await person('zz-probe');
  const small = tunnelSyncOptions(box);
  const events = await started(buildApp(tunnelSyncApp, small));
  const bus = await started(Bus.connect({ url: amqpUrl, producer: 'bench', ...small }));
  for (let i = 0; i < 10; i += 1) {
    const p = i === 9 ? probe : { ...probe, userId: `u-small-${i}`, keyId: randomBytes(12).toString('hex'), key: `ssh-ed25519 ${randomKey().blob}` };
    await bus.publish(keyAdded(p));
    await bus.publish(portLeased(p, 2000 + i));
  }
  await fileHas(box, probe.keyId);
  const loginWith10 = await loginMs(box, probe);
  await events.close();

  const sources = await seededSources(probe);
  const reports: ConvergeReport[] = [];
  const logs = { write: (line: string) => { if (line.includes('converged from the snapshot')) reports.push(JSON.parse(line)); } };
  const options = tunnelSyncOptions(box, { ...sources, serviceToken });
  let start = performance.now();
  const app = await buildApp(tunnelSyncApp, options, { logger: { level: 'info', stream: logs } });
  const startedMs = since(start);
  await until(async () => reports.length > 0, 600_000);
  await fileHas(box, `permitlisten="${sources.probePort}"`);
  const again = await app.tunnelSync.converge();
  const loginWithMany = await loginMs(box, probe);
  await app.close();
  // A restart loads the projection from its checkpoint; without a snapshot source it converges no more.
  start = performance.now();
  const restarted = await buildApp(tunnelSyncApp, { ...options, serviceToken: undefined });
  const restartMs = since(start);
  await restarted.close();
  return { startedMs, cold: reports[0]!, again, restartMs, loginWith10, loginWithMany, viewsLoadedMs: sources.viewsLoadedMs };
}

try {
  const latencies = await eventLatencies(await startedBox());
  const joins = await joinLatencies(await startedBox());
  const converged = await convergence(await startedBox());

  const row = (name: string, values: number[], target: string) =>
    `${name.padEnd(42)} ${percentile(values, 50).toFixed(0).padStart(7)} ${percentile(values, 99).toFixed(0).padStart(7)}   ${target}`;
  console.log(`\n${'event → effect, ms'.padEnd(42)} ${'p50'.padStart(7)} ${'p99'.padStart(7)}   target (${samples} samples)`);
  console.log(row('PortLeased → ssh -R listening', latencies.leaseToTunnel, 'p99 < 300'));
  console.log(row('  ssh -R alone, port allowed', latencies.tunnelAlone, '(no event: what ssh costs)'));
  console.log(row('PortLeased → port in the file', latencies.leaseToFile, ''));
  console.log(row('KeyAdded → key in the file', latencies.keyToFile, 'p99 < 200'));
  console.log(row('SessionDeclared → guest\'s jump channel open', joins.declaredToChannel, 'p99 < 300'));
  console.log(row('  jump channel alone, port allowed', joins.channelAlone, '(no event: what ssh costs)'));
  console.log(row('SessionDeclared → port in the join file', joins.declaredToFile, ''));
  console.log(row('SessionEnded → jump channel refused', joins.endedToRefused, 'p99 < 1000'));
  const { cold, again } = converged;
  console.log(`\nconvergence, ${keyCount} keys and ${leaseCount} live leases, ms   read   written   saved   target`);
  console.log(`empty box (started in ${converged.startedMs.toFixed(0)} ms)`.padEnd(52), `${cold.readMs}`.padStart(6), `${cold.writtenMs}`.padStart(9), `${cold.savedMs}`.padStart(7), '  written < 5000');
  console.log('again, nothing changed'.padEnd(52), `${again.readMs}`.padStart(6), `${again.writtenMs}`.padStart(9), `${again.savedMs}`.padStart(7));
  console.log(`restart: projection loaded and file written in ${converged.restartMs.toFixed(0)} ms`);
  console.log(`keys and sessions started, their live views loaded from ${keyCount} keys and ${leaseCount} leases, in ${converged.viewsLoadedMs.toFixed(0)} ms`);
  console.log(`\nsshd login (median of ${loginCount}): ${converged.loginWith10.toFixed(0)} ms with 10 lines, `
    + `${converged.loginWithMany.toFixed(0)} ms with ${leaseCount} (the probe's line last)`);

  figure('PortLeased → ssh -R listening, p50', percentile(latencies.leaseToTunnel, 50), 'ms');
  figure('PortLeased → ssh -R listening, p99', percentile(latencies.leaseToTunnel, 99), 'ms', '< 300');
  figure('ssh -R alone (port allowed), p50', percentile(latencies.tunnelAlone, 50), 'ms');
  figure('PortLeased → port in the file, p99', percentile(latencies.leaseToFile, 99), 'ms');
  figure('KeyAdded → key in the file, p50', percentile(latencies.keyToFile, 50), 'ms');
  figure('KeyAdded → key in the file, p99', percentile(latencies.keyToFile, 99), 'ms', '< 200');
  figure('SessionDeclared → guest\'s jump channel open, p50', percentile(joins.declaredToChannel, 50), 'ms');
  figure('SessionDeclared → guest\'s jump channel open, p99', percentile(joins.declaredToChannel, 99), 'ms', '< 300');
  figure('jump channel alone (port allowed), p50', percentile(joins.channelAlone, 50), 'ms');
  figure('SessionDeclared → port in the join file, p99', percentile(joins.declaredToFile, 99), 'ms');
  figure('SessionEnded → jump channel refused, p99', percentile(joins.endedToRefused, 99), 'ms', '< 1000');
  figure(`empty box converged from ${keyCount} keys and ${leaseCount} leases: file written`, cold.writtenMs, 'ms', '< 5000');
  figure('restart: projection loaded and file written', converged.restartMs, 'ms');
  figure('keys and sessions started with their live views loaded', converged.viewsLoadedMs, 'ms');
  figure(`sshd login with ${leaseCount} lines / with 10`, converged.loginWithMany / converged.loginWith10, '×');
} finally {
  for (const cleanUp of cleanUps) await cleanUp().catch((error: unknown) => console.error(error));
  await servers.stop();
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner, generateSigningKeys, type Principal } from '@tmuxme/auth';
import { announceTunnelBox, buildApp, eventually, generateSshKey, testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import keysApp from '@tmuxme/keys/app';
import sessionsApp from '@tmuxme/sessions/app';
import { ensureTunnelAccount, snapshotGate } from './support.js';
import {
  barrier, besideFiles, buildTunnelSyncApp, fileSettles, joinComment, keyLines, keyText, newId, producer, tunnelHost, tunnelSyncOptions,
  type Producer, type TunnelSyncTestApp,
} from './tunnel-sync-app.js';

/**
 * An empty box converging from the real keys and sessions apps' snapshots, at start and on demand,
 * with events arriving while it reads them. Keys and sessions publish on exchanges of their own, so
 * everything tunnel-sync learns from them here comes from the snapshots.
 */
const serviceToken = 'a-service-credential-for-the-tests';
/** Shorter than the service's 30 s, so the test can wait it out. */
const snapshotLagMs = 1500;
const signing = generateSigningKeys();
let dir: string;
let file: string;
let keys: Awaited<ReturnType<typeof buildApp>>;
let sessions: Awaited<ReturnType<typeof buildApp>>;
let gate: Awaited<ReturnType<typeof snapshotGate>>;
let app: TunnelSyncTestApp;
let events: Producer;

const bearer = async (principal: Principal) => ({ authorization: `Bearer ${await (await createSigner(signing.privateKey, 900)).sign(principal)}` });
const userOf = (name: string) => ({ userId: `u-${name}`, username: name });

async function addKey(principal: Principal): Promise<{ id: string; key: string }> {
  const response = await keys.inject({ method: 'POST', url: '/api/v1/user/keys', headers: await bearer(principal), payload: { key: (await generateSshKey()).publicKey } });
  return response.json();
}

async function leasePort(principal: Principal, { private: isPrivate = false } = {}): Promise<{ leaseId: string; port: number }> {
  return (await sessions.inject({ url: `/api/v1/pairing/port${isPrivate ? '?private=true' : ''}`, headers: await bearer(principal) })).json();
}

/** A session on the host's leased port; each guest has made a request to sessions first, so it knows their account. */
async function declareSession(host: Principal, port: number, guests: Principal[], { private: isPrivate = false } = {}): Promise<{ id: string }> {
  for (const guest of guests) await sessions.inject({ url: '/api/v1/pairing/sessions', headers: await bearer(guest) });
  const response = await sessions.inject({
    method: 'POST', url: '/api/v1/pairing/sessions', headers: await bearer(host),
    payload: { port, guests: guests.map((guest) => guest.username), private: isPrivate },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

const byUser = (lines: string[]) => Object.fromEntries(['alice', 'bob'].map((name) => [name, lines.filter((l) => l.includes(`tmuxme:u-${name}:`))]));

beforeAll(async () => {
  await ensureTunnelAccount();
  dir = await mkdtemp(join(tmpdir(), 'tunnel-sync-converge-'));
  file = join(dir, 'authorized_keys');
  const common = { amqpUrl: testAmqpUrl(), jwtPublicKey: signing.publicKey, serviceToken };
  keys = await buildApp(keysApp, { ...common, ...testExchanges(), mongoUrl: testMongoUrl(uniqueName('keys')), queue: uniqueName('keys') });
  const sessionsExchanges = testExchanges();
  sessions = await buildApp(sessionsApp, {
    ...common, ...sessionsExchanges, mongoUrl: testMongoUrl(uniqueName('sessions')), queue: uniqueName('sessions'), boxSilenceMs: 10 * 60_000,
  });
  // The box announces itself to sessions as its heartbeat would; this file's tunnel-sync runs without one.
  await announceTunnelBox(testAmqpUrl(), sessionsExchanges.exchange, {
    boxId: tunnelHost, tunnelHost, tunnelPort: 22, hostKey: (await generateSshKey()).publicKey, portRange: { from: 20000, to: 29999 },
  });
  await eventually(() => sessions.db.collection('boxes').findOne({ _id: tunnelHost as never }));
  gate = await snapshotGate(await keys.listen({ port: 0, host: '127.0.0.1' }), await sessions.listen({ port: 0, host: '127.0.0.1' }));
}, 60_000);

afterAll(async () => {
  await events?.bus.close();
  await app?.close();
  await gate?.close();
  await keys?.close();
  await sessions?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('convergence from the snapshots', () => {
  const alice = userOf('alice');
  const bob = userOf('bob');
  let aliceKeys: { id: string; key: string }[];
  let aliceLease: { leaseId: string; port: number };

  it('an empty box converges at start: keys of users with a lease here, pinned to their ports', async () => {
    aliceKeys = [await addKey(alice), await addKey(alice)];
    aliceLease = await leasePort(alice);
    await addKey(bob);
    const options = tunnelSyncOptions(file, { keysUrl: gate.url, sessionsUrl: gate.url, serviceToken, snapshotLagMs });
    app = await buildTunnelSyncApp(options);
    events = await producer(options);

    const lines = await fileSettles(file, (found) => found.length === 2);
    expect(lines).toEqual(aliceKeys.map((k) =>
      `restrict,port-forwarding,permitlisten="${aliceLease.port}",command="/usr/local/bin/tunnel-hold" ${k.key} tmuxme:${alice.userId}:${k.id}`));
  });

  it('converges on demand, with the service credential only', async () => {
    const bobLease = await leasePort(bob);
    await keys.inject({ method: 'DELETE', url: `/api/v1/user/keys/${aliceKeys[0]!.id}`, headers: await bearer(alice) });
    const refused = await app.inject({ method: 'POST', url: '/internal/v1/converge', headers: { authorization: 'Service not-the-credential-at-all' } });
    expect(refused.statusCode).toBe(401);

    const response = await app.inject({ method: 'POST', url: '/internal/v1/converge', headers: { authorization: `Service ${serviceToken}` } });
    expect(response.json()).toMatchObject({ keys: 2, leases: 2, changes: 2 });
    const lines = byUser(await keyLines(file));
    expect(lines.alice).toEqual([expect.stringContaining(aliceKeys[1]!.id)]);
    expect(lines.bob).toEqual([expect.stringContaining(`permitlisten="${bobLease.port}"`)]);
  });

  it('events that arrive while a snapshot is read apply on top of it; what the snapshot lacks is tombstoned', async () => {
    const fresh = { id: newId(), key: keyText((await generateSshKey()).publicKey) };
    const remaining = aliceKeys[1]!;
    gate.hold();
    const converging = app.tunnelSync.converge();
    await gate.waitForHeld();
    // Keys added the first after its page was read, and removed the second, which its page still has.
    await events.keyAdded(alice, fresh.id, fresh.key);
    await events.keyRemoved(alice, remaining.id, remaining.key);
    await fileSettles(file, (found) => byUser(found).alice!.length === 1 && found.some((line) => line.includes(fresh.id)));
    gate.release();
    expect(await converging).toMatchObject({ changes: 0 });
    expect(byUser(await keyLines(file)).alice).toEqual([expect.stringContaining(fresh.id)]);

    // Read again at once, the snapshot may still lag the event; once it cannot, it says that key does not exist.
    expect(await app.tunnelSync.converge()).toMatchObject({ changes: 0 });
    await new Promise((resolve) => setTimeout(resolve, snapshotLagMs));
    expect(await app.tunnelSync.converge()).toMatchObject({ changes: 1 });
    expect(byUser(await keyLines(file)).alice).toEqual([]);
    await events.keyAdded(alice, fresh.id, fresh.key);
    await barrier(file, events);
    expect(byUser(await keyLines(file)).alice).toEqual([]);
  });

  it('builds the join file and the private file from the snapshots, on a fresh box and on demand', async () => {
    const [carol, dave, erin] = [userOf('carol'), userOf('dave'), userOf('erin')];
    const carolKey = await addKey(carol);
    const daveKey = await addKey(dave);
    const publicLease = await leasePort(carol);
    const privateLease = await leasePort(carol, { private: true });
    const shared = await declareSession(carol, publicLease.port, [dave]);
    await declareSession(carol, privateLease.port, [dave], { private: true });

    // A box that has never seen an event, from the snapshots alone.
    const freshDir = await mkdtemp(join(tmpdir(), 'tunnel-sync-converge-fresh-'));
    const fresh = await buildTunnelSyncApp(tunnelSyncOptions(join(freshDir, 'authorized_keys'), { keysUrl: gate.url, sessionsUrl: gate.url, serviceToken }));
    try {
      const { joinFile, privateFile } = besideFiles(join(freshDir, 'authorized_keys'));
      const [line] = await fileSettles(joinFile, (found) => found.some((l) => l.endsWith(joinComment(dave, daveKey.id))));
      expect(line).toBe(`restrict,port-forwarding,${[publicLease.port, privateLease.port].sort((a, b) => a - b).map((port) => `permitopen="127.0.0.1:${port}"`).join(',')},`
        + `command="/usr/local/bin/tunnel-hold" ${daveKey.key} ${joinComment(dave, daveKey.id)}`);
      // Each file has its own writer: the private one may land a moment after the join file.
      expect(await fileSettles(privateFile, (found) => found.length > 0)).toEqual([
        `restrict,port-forwarding,permitlisten="${privateLease.port}",command="/usr/local/bin/tunnel-hold" ${carolKey.key} tmuxme:${carol.userId}:${carolKey.id}`,
      ]);
      expect((await keyLines(join(freshDir, 'authorized_keys'))).filter((l) => l.includes(carol.userId))).toEqual([
        expect.stringContaining(`permitlisten="${publicLease.port}",command=`),
      ]);
    } finally {
      await fresh.close();
      await rm(freshDir, { recursive: true, force: true });
    }

    // The running box, on demand: the session comes; then one declared by an event during a read stays,
    // until a read with nothing arriving meanwhile shows the sessions service never had it.
    const { joinFile } = besideFiles(file);
    const daveLine = (found: string[]) => found.filter((l) => l.endsWith(joinComment(dave, daveKey.id)));
    const report = await app.tunnelSync.converge();
    expect(report).toMatchObject({ sessions: 2 });
    expect(daveLine(await keyLines(joinFile))).toEqual([expect.stringContaining(`permitopen="127.0.0.1:${publicLease.port}"`)]);

    const eventPort = 30_500; // outside the sessions app's range, so none of its leases can have it
    gate.hold();
    const converging = app.tunnelSync.converge();
    await gate.waitForHeld();
    await events.portLeased(erin, newId(), eventPort);
    await events.sessionDeclared(erin, newId(), eventPort, [dave]);
    await fileSettles(joinFile, (found) => daveLine(found).some((l) => l.includes(`permitopen="127.0.0.1:${eventPort}"`)));
    gate.release();
    await converging;
    expect(daveLine(await keyLines(joinFile))).toEqual([expect.stringContaining(`permitopen="127.0.0.1:${eventPort}"`)]);

    await sessions.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${shared.id}`, headers: await bearer(carol) });
    await new Promise((resolve) => setTimeout(resolve, snapshotLagMs));
    await app.tunnelSync.converge();
    expect(daveLine(await keyLines(joinFile))).toEqual([expect.stringContaining(`restrict,port-forwarding,permitopen="127.0.0.1:${privateLease.port}",command=`)]);
    const response = await app.inject({ method: 'POST', url: '/internal/v1/converge', headers: { authorization: `Service ${serviceToken}` } });
    expect(response.json()).toMatchObject({ sessions: 1, changes: 0 });
  });
});

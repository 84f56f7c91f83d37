import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort, generateSshKey, jumpConnect, openReverseTunnel, startTunnelBox, type TunnelBox } from '@tmuxme/testing';
import {
  barrier, buildTunnelSyncApp, comment, fileSettles, joinComment, keyText, newId, producer, tunnelSyncOptions, type Producer, type TunnelSyncTestApp, type User,
} from './tunnel-sync-app.js';

/**
 * tunnel-sync writing a real tunnel box's three authorized_keys files, and the box's real sshd deciding
 * with them, against real `ssh -R` and `ssh -W` clients: who may forward which port, and which guest
 * may open a channel to which forward through the join user.
 */
let box: TunnelBox;
let app: TunnelSyncTestApp;
let events: Producer;
let target: Server;
let targetPort: number;
let keysDir: string;

interface Person extends User {
  keyId: string;
  key: string;
  privateKeyPath: string;
}

async function person(name: string): Promise<Person> {
  const generated = await generateSshKey('ed25519');
  const privateKeyPath = join(keysDir, name);
  await writeFile(privateKeyPath, generated.privateKey, { mode: 0o600 });
  return { userId: `u-${name}`, username: name, keyId: newId(), key: keyText(generated.publicKey), privateKeyPath };
}

const tunnel = (who: Person, remotePort: number, options: { user?: 'tunnel' | 'tunnel-private'; bindAddress?: string } = {}) =>
  openReverseTunnel({ box, privateKeyPath: who.privateKeyPath, remotePort, target: { host: '127.0.0.1', port: targetPort }, ...options });

/** What a guest's `ssh -J join@box` gets for a channel to `target` (`127.0.0.1:PORT` on the jump path). */
const joinThrough = (who: Person, target: string) => jumpConnect({ box, privateKeyPath: who.privateKeyPath, target });
const welcome = 'hello from the host\n';
/** How soon a guest's way in must open or close after the event that decides it. */
const withinASecond = (file: string, check: (lines: string[]) => boolean) => fileSettles(file, check, 1000);
const hasLine = (suffix: string) => (lines: string[]) => lines.some((line) => line.endsWith(suffix));

/** An address of this machine that is not loopback: a forward that answers there answers from outside the box. */
function outsideAddress(): string {
  const found = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!found) throw new Error('this machine has no non-loopback IPv4 address to tell a loopback bind from a public one');
  return found.address;
}

/** What a guest connecting to the box's port gets: the target's greeting, through the tunnel. */
function greetingAt(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk) => { received += chunk.toString(); });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'tunnel-sync-keys-'));
  box = await startTunnelBox();
  const options = tunnelSyncOptions(box.authorizedKeysFile, {
    privateAuthorizedKeysFile: box.privateAuthorizedKeysFile, joinAuthorizedKeysFile: box.joinAuthorizedKeysFile,
  });
  app = await buildTunnelSyncApp(options);
  events = await producer(options);
  target = createServer((socket) => {
    // A guest's ssh may hang up before the greeting is out: a reset is the guest's business, not a failure here.
    socket.on('error', () => socket.destroy());
    socket.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  await events?.bus.close();
  await app?.close();
  await box?.stop();
  await new Promise((resolve) => target?.close(resolve));
  if (keysDir) await rm(keysDir, { recursive: true, force: true });
});

describe('who may forward what, as the real sshd decides from the file', () => {
  it('a user with a lease forwards their port, and a connection to it reaches the target; any other port is refused', async () => {
    const alice = await person('alice');
    const [port, otherPort] = [await freePort(), await freePort()];
    await events.keyAdded(alice, alice.keyId, alice.key);
    await events.portLeased(alice, newId(), port);
    await fileSettles(box.authorizedKeysFile, (lines) => lines.some((line) => line.includes(`permitlisten="${port}"`) && line.endsWith(comment(alice, alice.keyId))));

    const forward = await tunnel(alice, port);
    expect(await greetingAt(port)).toBe('hello from the host\n');
    await forward.close();
    await expect(tunnel(alice, otherPort)).rejects.toThrow(/remote port forwarding failed/i);

    await events.keyRemoved(alice, alice.keyId, alice.key);
    await fileSettles(box.authorizedKeysFile, (lines) => !lines.some((line) => line.includes(alice.userId)));
    await expect(tunnel(alice, port)).rejects.toThrow(/Permission denied \(publickey\)/);
  });

  it('a key without a lease, or with a lease on another box only, is refused at authentication', async () => {
    const bob = await person('bob');
    await events.keyAdded(bob, bob.keyId, bob.key);
    await events.portLeased(bob, newId(), await freePort(), { host: 'box-b.tunnel.test' });
    await barrier(box.authorizedKeysFile, events);
    await expect(tunnel(bob, await freePort())).rejects.toThrow(/Permission denied \(publickey\)/);
  });

  it('after PortReleased that port is refused, while another lease of the same user still works', async () => {
    const carol = await person('carol');
    const [first, second] = [newId(), newId()];
    const [firstPort, secondPort] = [await freePort(), await freePort()];
    await events.keyAdded(carol, carol.keyId, carol.key);
    await events.portLeased(carol, first, firstPort);
    await events.portLeased(carol, second, secondPort);
    await fileSettles(box.authorizedKeysFile, (lines) => lines.some((line) => line.includes(`permitlisten="${secondPort}"`)));
    await (await tunnel(carol, firstPort)).close();

    await events.portReleased(carol, first, firstPort);
    await fileSettles(box.authorizedKeysFile, (lines) => !lines.some((line) => line.includes(`permitlisten="${firstPort}"`)));
    await expect(tunnel(carol, firstPort)).rejects.toThrow(/remote port forwarding failed/i);
    const still = await tunnel(carol, secondPort);
    expect(await greetingAt(secondPort)).toBe('hello from the host\n');
    await still.close();

    await events.portReleased(carol, second, secondPort);
    await fileSettles(box.authorizedKeysFile, (lines) => !lines.some((line) => line.includes(carol.userId)));
    await expect(tunnel(carol, secondPort)).rejects.toThrow(/Permission denied \(publickey\)/);
  });
});

describe('who may open a channel through the join user, as the real sshd decides from the join file', () => {
  it('an invited guest reaches their session\'s forward; an uninvited key, a guest of another session, any other target: refused', async () => {
    const [alice, gina, bea, otto, ulysses] = await Promise.all(['alice2', 'gina', 'bea', 'otto', 'ulysses'].map(person));
    for (const who of [alice!, gina!, bea!, otto!, ulysses!]) await events.keyAdded(who, who.keyId, who.key);
    const [p, q] = [await freePort(), await freePort()];
    await events.portLeased(alice!, newId(), p);
    await events.portLeased(bea!, newId(), q);
    await events.sessionDeclared(alice!, newId(), p, [gina!]);
    await events.sessionDeclared(bea!, newId(), q, [otto!]);
    await withinASecond(box.joinAuthorizedKeysFile, (lines) => hasLine(joinComment(gina!, gina!.keyId))(lines) && hasLine(joinComment(otto!, otto!.keyId))(lines));
    const forwards = [await tunnel(alice!, p), await tunnel(bea!, q)];
    try {
      expect(await joinThrough(gina!, `127.0.0.1:${p}`)).toBe(welcome);
      expect(await joinThrough(otto!, `127.0.0.1:${q}`)).toBe(welcome);

      await expect(joinThrough(ulysses!, `127.0.0.1:${p}`)).rejects.toThrow(/Permission denied \(publickey\)/);
      // A host is no guest of their own session.
      await expect(joinThrough(alice!, `127.0.0.1:${p}`)).rejects.toThrow(/Permission denied \(publickey\)/);
      await expect(joinThrough(otto!, `127.0.0.1:${p}`)).rejects.toThrow(/administratively prohibited/);
      await expect(joinThrough(gina!, `127.0.0.1:${q}`)).rejects.toThrow(/administratively prohibited/);
      // Nothing but the literal address of the session's port: no name, no other address, not the box's own sshd.
      for (const target of [`localhost:${p}`, `${outsideAddress()}:${p}`, `127.0.0.1:${box.port}`, '127.0.0.1:22']) {
        await expect(joinThrough(gina!, target)).rejects.toThrow(/administratively prohibited/);
      }
    } finally {
      await Promise.all(forwards.map((forward) => forward.close()));
    }
  });

  it('a removed key and an ended session lose their way in within a second', async () => {
    const [hal, gus, kim] = await Promise.all(['hal', 'gus', 'kim'].map(person));
    for (const who of [hal!, gus!, kim!]) await events.keyAdded(who, who.keyId, who.key);
    const [port, sessionId] = [await freePort(), newId()];
    await events.portLeased(hal!, newId(), port);
    await events.sessionDeclared(hal!, sessionId, port, [gus!, kim!]);
    await withinASecond(box.joinAuthorizedKeysFile, hasLine(joinComment(kim!, kim!.keyId)));
    const forward = await tunnel(hal!, port);
    try {
      expect(await joinThrough(kim!, `127.0.0.1:${port}`)).toBe(welcome);
      await events.keyRemoved(kim!, kim!.keyId, kim!.key);
      await withinASecond(box.joinAuthorizedKeysFile, (lines) => !hasLine(joinComment(kim!, kim!.keyId))(lines));
      await expect(joinThrough(kim!, `127.0.0.1:${port}`)).rejects.toThrow(/Permission denied \(publickey\)/);
      expect(await joinThrough(gus!, `127.0.0.1:${port}`)).toBe(welcome);

      await events.sessionEnded(sessionId, 'expired');
      await withinASecond(box.joinAuthorizedKeysFile, (lines) => !hasLine(joinComment(gus!, gus!.keyId))(lines));
      await expect(joinThrough(gus!, `127.0.0.1:${port}`)).rejects.toThrow(/Permission denied \(publickey\)/);
    } finally {
      await forward.close();
    }
  });

  it('a private lease is forwarded only as tunnel-private, bound to loopback, and its guests join through the join user', async () => {
    const [pat, gwen] = await Promise.all(['pat', 'gwen'].map(person));
    for (const who of [pat!, gwen!]) await events.keyAdded(who, who.keyId, who.key);
    const [hidden, open] = [await freePort(), await freePort()];
    await events.portLeased(pat!, newId(), hidden, { private: true });
    await events.portLeased(pat!, newId(), open, { private: false });
    await events.sessionDeclared(pat!, newId(), hidden, [gwen!], { private: true });
    await withinASecond(box.privateAuthorizedKeysFile, hasLine(comment(pat!, pat!.keyId)));
    await withinASecond(box.joinAuthorizedKeysFile, hasLine(joinComment(gwen!, gwen!.keyId)));

    // Each port with the other account: refused.
    await expect(tunnel(pat!, hidden)).rejects.toThrow(/remote port forwarding failed/i);
    await expect(tunnel(pat!, open, { user: 'tunnel-private' })).rejects.toThrow(/remote port forwarding failed/i);

    // Asked for every address, sshd binds loopback all the same: the port does not answer from outside.
    const privateForward = await tunnel(pat!, hidden, { user: 'tunnel-private', bindAddress: '0.0.0.0' });
    const publicForward = await tunnel(pat!, open);
    try {
      expect(await canConnect(hidden, outsideAddress())).toBe(false);
      expect(await canConnect(open, outsideAddress())).toBe(true);
      expect(await joinThrough(gwen!, `127.0.0.1:${hidden}`)).toBe(welcome);
    } finally {
      await Promise.all([privateForward.close(), publicForward.close()]);
    }

    // A host with only a private lease is a stranger to the tunnel user.
    const solo = await person('solo');
    await events.keyAdded(solo, solo.keyId, solo.key);
    const soloPort = await freePort();
    await events.portLeased(solo, newId(), soloPort, { private: true });
    await withinASecond(box.privateAuthorizedKeysFile, hasLine(comment(solo, solo.keyId)));
    await expect(tunnel(solo, soloPort)).rejects.toThrow(/Permission denied \(publickey\)/);
  });
});

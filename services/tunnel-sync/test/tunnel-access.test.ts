import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, generateSshKey, openReverseTunnel, startTunnelBox, type TunnelBox } from '@tmuxme/testing';
import {
  barrier, buildTunnelSyncApp, comment, fileSettles, keyText, newId, producer, tunnelSyncOptions, type Producer, type TunnelSyncTestApp, type User,
} from './tunnel-sync-app.js';

/**
 * tunnel-sync writing a real tunnel box's authorized_keys, and the box's real sshd deciding with it,
 * against real `ssh -R` clients: who may forward which port.
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

const tunnel = (who: Person, remotePort: number) =>
  openReverseTunnel({ box, privateKeyPath: who.privateKeyPath, remotePort, target: { host: '127.0.0.1', port: targetPort } });

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
  const options = tunnelSyncOptions(box.authorizedKeysFile);
  app = await buildTunnelSyncApp(options);
  events = await producer(options);
  target = createServer((socket) => socket.end('hello from the host\n'));
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
    await events.portLeased(bob, newId(), await freePort(), 'box-b.tunnel.test');
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

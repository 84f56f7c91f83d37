import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKey } from '@tmuxme/testing';
import { ensureTunnelAccount } from './support.js';
import {
  besideFiles, buildTunnelSyncApp, fileSettles, joinComment, keyText, newId, producer, tunnelSyncOptions, type Producer,
} from './tunnel-sync-app.js';

/** A box that stops and starts again: what it knew comes from its database, what it missed from its queue. */
let dir: string;
let events: Producer;
let producers: Producer | undefined;

beforeAll(async () => {
  await ensureTunnelAccount();
  dir = await mkdtemp(join(tmpdir(), 'tunnel-sync-restart-'));
});

afterAll(async () => {
  await producers?.bus.close();
  await events?.bus.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const users = (lines: string[]) => [...new Set(lines.map((line) => line.split(' ').at(-1)!.split(':')[1]))].sort();

describe('restart', () => {
  it('converges after events published while it was down, on top of the state it had', async () => {
    const file = join(dir, 'authorized_keys');
    // A checkpoint every 3 changes: the state at restart comes from a checkpoint plus a log.
    const options = tunnelSyncOptions(file, { checkpointEvery: 3 });
    events = await producer(options);
    const [u1, u2, u3, u4] = await Promise.all([1, 2, 3, 4].map(async (n) => ({
      userId: `u${n}`, username: `user${n}`, keyId: newId(), leaseId: newId(), port: 21000 + n, key: keyText((await generateSshKey('ed25519')).publicKey),
    })));

    const before = await buildTunnelSyncApp(options);
    for (const p of [u1!, u2!, u4!]) {
      await events.keyAdded(p, p.keyId, p.key);
      await events.portLeased(p, p.leaseId, p.port);
    }
    await fileSettles(file, (lines) => lines.length === 3);
    await before.close();
    await rm(file);

    await events.keyRemoved(u1!, u1!.keyId, u1!.key);
    await events.keyAdded(u3!, u3!.keyId, u3!.key);
    await events.portLeased(u3!, u3!.leaseId, u3!.port);
    await events.portReleased(u2!, u2!.leaseId, u2!.port);

    const after = await buildTunnelSyncApp(options);
    try {
      const lines = await fileSettles(file, (found) => users(found).join() === 'u3,u4');
      expect(lines.find((line) => line.endsWith(`:${u4!.keyId}`))).toContain(`permitlisten="${u4!.port}"`);
      expect((await after.db.listCollections()).map((c) => c.name)).toContain('projection_commits');
    } finally {
      await after.close();
    }
  });

  it('keeps the sessions it knew, and their ends, from its database', async () => {
    const file = join(dir, 'sessions', 'authorized_keys');
    await mkdir(join(dir, 'sessions'));
    const { joinFile } = besideFiles(file);
    const options = tunnelSyncOptions(file, { checkpointEvery: 4 });
    producers = await producer(options);
    const [host, kept, ended] = await Promise.all(['host', 'kept', 'ended'].map(async (name) => ({
      userId: `u-${name}`, username: name, keyId: newId(), key: keyText((await generateSshKey('ed25519')).publicKey),
    })));
    const sessions = { kept: newId(), ended: newId() };

    const before = await buildTunnelSyncApp(options);
    for (const p of [host!, kept!, ended!]) await producers.keyAdded(p, p.keyId, p.key);
    await producers.portLeased(host!, newId(), 21101);
    await producers.portLeased(host!, newId(), 21102, { private: true });
    await producers.sessionDeclared(host!, sessions.kept, 21101, [kept!]);
    await producers.sessionDeclared(host!, sessions.ended, 21102, [ended!], { private: true });
    await fileSettles(joinFile, (lines) => lines.length === 2);
    await before.close();
    await rm(joinFile);

    // Missed while it was down: the second session ends, and comes again late.
    await producers.sessionEnded(sessions.ended);
    await producers.sessionDeclared(host!, sessions.ended, 21102, [ended!], { private: true });

    const after = await buildTunnelSyncApp(options);
    try {
      const lines = await fileSettles(joinFile, (found) => found.length === 1 && found[0]!.endsWith(joinComment(kept!, kept!.keyId)));
      expect(lines[0]).toContain('permitopen="127.0.0.1:21101",command=');
      expect(after.tunnelSync.healthy).toBe(true);
    } finally {
      await after.close();
    }
  });
});

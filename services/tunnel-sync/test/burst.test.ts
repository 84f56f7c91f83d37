import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKey } from '@tmuxme/testing';
import { ensureTunnelAccount, pollFile } from './support.js';
import { buildTunnelSyncApp, fileSettles, keyText, newId, producer, tunnelSyncOptions, type Producer, type TunnelSyncTestApp } from './tunnel-sync-app.js';

/** What sshd may read while events pour in: a whole file with the right owner, every time. */
let dir: string;
let gid: number;
let app: TunnelSyncTestApp;
let events: Producer;

beforeAll(async () => {
  gid = await ensureTunnelAccount();
  dir = await mkdtemp(join(tmpdir(), 'tunnel-sync-burst-'));
});

afterAll(async () => {
  await events?.bus.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a burst of events', () => {
  it('never shows a concurrent reader a partial or mis-owned file while 2,000 events are applied', async () => {
    const file = join(dir, 'authorized_keys');
    const options = tunnelSyncOptions(file);
    app = await buildTunnelSyncApp(options);
    events = await producer(options);
    const keys = await Promise.all(Array.from({ length: 10 }, async () => keyText((await generateSshKey('ed25519')).publicKey)));
    const poller = await pollFile(file, gid, 'authorized-keys');

    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, async (_, j) => {
        const i = batch + j;
        const user = { userId: `u-burst-${i}`, username: `burst${i}` };
        await events.keyAdded(user, newId(), keys[i % keys.length]!);
        await events.portLeased(user, newId(), 20000 + i);
      }));
    }
    await fileSettles(file, (lines) => lines.length === 1000, 120_000);
    const seen = await poller.stop();

    expect(seen.problems).toEqual([]);
    expect(seen.reads).toBeGreaterThan(100);
    // Lines only ever come here, so a file cut off at a line boundary would show as one that shrank.
    expect(seen.lines.shrank).toBe(0);
    expect(seen.lines.last).toBe(1002);
    // Coalesced: far fewer files than events.
    expect(app.tunnelSync.writers.tunnel.writes).toBeLessThan(2000);
  }, 180_000);
});

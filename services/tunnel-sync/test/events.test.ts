import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKey } from '@tmuxme/testing';
import { ensureTunnelAccount } from './support.js';
import {
  barrier, buildTunnelSyncApp, comment, fileSettles, keyLines, keyText, newId, producer, tunnelSyncOptions, type Producer, type TunnelSyncTestApp,
} from './tunnel-sync-app.js';

/** The projection's rules, through real events on the real broker: what may and may not come back. */
let dir: string;
let file: string;
let app: TunnelSyncTestApp;
let events: Producer;
const logs: { msg: string; keyId?: string }[] = [];

beforeAll(async () => {
  await ensureTunnelAccount();
  dir = await mkdtemp(join(tmpdir(), 'tunnel-sync-events-'));
  file = join(dir, 'authorized_keys');
  const options = tunnelSyncOptions(file);
  app = await buildTunnelSyncApp(options, { logger: { level: 'warn', stream: { write: (line: string) => void logs.push(JSON.parse(line)) } } });
  events = await producer(options);
});

afterAll(async () => {
  await events?.bus.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const key = async () => keyText((await generateSshKey('ed25519')).publicKey);
const ofUser = (userId: string) => (lines: string[]) => lines.filter((line) => line.includes(`tmuxme:${userId}:`));

describe('events', () => {
  it('a released lease or a removed key stays gone when its event comes again late', async () => {
    const frank = { userId: 'u-frank', username: 'frank' };
    const [keyId, text, first, second] = [newId(), await key(), newId(), newId()];
    await events.keyAdded(frank, keyId, text);
    await events.portLeased(frank, first, 20001);
    await fileSettles(file, (lines) => ofUser(frank.userId)(lines).length === 1);
    await events.portReleased(frank, first, 20001);
    await events.portLeased(frank, first, 20001); // late, or redelivered from an old outbox
    await barrier(file, events);
    expect(ofUser(frank.userId)(await keyLines(file))).toEqual([]);

    await events.portLeased(frank, second, 20002);
    const [line] = await fileSettles(file, (lines) => ofUser(frank.userId)(lines).length === 1);
    expect(line).toContain('permitlisten="20002",command=');
    expect(line).not.toContain('20001');

    await events.keyRemoved(frank, keyId, text);
    await events.keyAdded(frank, keyId, text);
    await barrier(file, events);
    expect(ofUser(frank.userId)(await keyLines(file))).toEqual([]);
  });

  it('a deleted user loses every line, and nothing of theirs is written again', async () => {
    const erin = { userId: 'u-erin', username: 'erin' };
    const keyIds = [newId(), newId()];
    for (const keyId of keyIds) await events.keyAdded(erin, keyId, await key());
    await events.portLeased(erin, newId(), 20003);
    await fileSettles(file, (lines) => ofUser(erin.userId)(lines).length === 2);
    await events.userDeleted(erin);
    await events.keyAdded(erin, newId(), await key());
    await events.portLeased(erin, newId(), 20004);
    await barrier(file, events);
    expect(ofUser(erin.userId)(await keyLines(file))).toEqual([]);
  });

  it('a key that fails validation is never written, and is reported once', async () => {
    const mallory = { userId: 'u-mallory', username: 'mallory' };
    const good = await key();
    const smuggled = `${good}\nrestrict,port-forwarding,permitlisten="*" ${await key()}`;
    const [badId, goodId] = [newId(), newId()];
    await events.keyAdded(mallory, badId, smuggled);
    await events.keyAdded(mallory, goodId, good);
    await events.portLeased(mallory, newId(), 20005);
    await fileSettles(file, (lines) => ofUser(mallory.userId)(lines).length === 1);
    await barrier(file, events);
    await barrier(file, events);

    expect(ofUser(mallory.userId)(await keyLines(file))).toEqual([expect.stringMatching(new RegExp(`${comment(mallory, goodId)}$`))]);
    expect((await keyLines(file)).every((line) => line.startsWith('restrict,port-forwarding,permitlisten="'))).toBe(true);
    expect(logs.filter((entry) => entry.keyId === badId).map((entry) => entry.msg)).toEqual(['key left out of authorized_keys: it fails validation']);
  });

  it('the converge route wants the service credential, and says when the box has no snapshot source', async () => {
    expect((await app.inject({ method: 'POST', url: '/internal/v1/converge' })).json()).toMatchObject({ statusCode: 401 });
    await expect(app.tunnelSync.converge()).rejects.toThrow('no snapshot source');
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, UserDeleted } from '@tmuxme/events';
import { eventually, generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { parsePublicKey } from '@tmuxme/ssh-keys';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/** The per-user cap and a key's single owner hold across replicas adding at once, and survive crashes and old data. */
const maxKeysPerUser = 3;
const options = keysOptions({ maxKeysPerUser });
type App = Awaited<ReturnType<typeof buildKeysApp>>;
let replicas: App[];
let db: mongoose.Connection;

/** Written as a version of the service from before claims existed would have: a key document alone. */
const legacy = { _id: new mongoose.Types.ObjectId(), userId: 'u-olga', username: 'olga', title: 'old laptop', createdAt: new Date('2025-01-01') };
let legacyLine: string;

beforeAll(async () => {
  db = await mongoose.createConnection(options.mongoUrl).asPromise();
  legacyLine = (await generateSshKey('ed25519')).publicKey.trim();
  const { type, blob, fingerprint } = parsePublicKey(legacyLine);
  await db.collection('keys').insertOne({ ...legacy, type, blob, fingerprint, eventIds: [], deletedAt: null });
  replicas = await Promise.all([buildKeysApp(options), buildKeysApp(options)]);
});
afterAll(async () => {
  await Promise.all(replicas?.map((app) => app.close()) ?? []);
  await db?.close();
});

const addKey = (app: App, auth: { authorization: string }, key: string) =>
  app.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key } });
const listKeys = async (auth: { authorization: string }) =>
  (await replicas[0]!.inject({ url: '/api/v1/user/keys', headers: auth })).json() as { id: string; key: string }[];

describe('key claims', () => {
  it('never lets concurrent adds on two replicas take a user past the cap', async () => {
    const auth = await bearerFor({ userId: 'u-ruth', username: 'ruth' });
    const keys = await Promise.all(Array.from({ length: 10 }, () => generateSshKey('ed25519')));
    const responses = await Promise.all(keys.map((key, i) => addKey(replicas[i % 2]!, auth, key.publicKey)));
    const codes = responses.map((response) => response.statusCode === 201 ? 201 : response.json().code);
    expect(codes.filter((code) => code === 201)).toHaveLength(maxKeysPerUser);
    expect(codes.filter((code) => code !== 201)).toEqual(Array(10 - maxKeysPerUser).fill('TOO_MANY_KEYS'));
    expect((await listKeys(auth)).map((k) => k.id).sort()).toEqual(responses.filter((r) => r.statusCode === 201).map((r) => r.json().id).sort());
  });

  it('frees the slot of a removed key, whatever the case of the id it was removed by', async () => {
    const auth = await bearerFor({ userId: 'u-xena', username: 'xena' });
    const ids: string[] = [];
    for (let i = 0; i < maxKeysPerUser; i += 1) ids.push((await addKey(replicas[0]!, auth, (await generateSshKey('ed25519')).publicKey)).json().id);
    const response = await replicas[1]!.inject({ method: 'DELETE', url: `/api/v1/user/keys/${ids[0]!.toUpperCase()}`, headers: auth });
    expect(response.statusCode).toBe(204);
    expect((await addKey(replicas[0]!, auth, (await generateSshKey('ed25519')).publicKey)).statusCode).toBe(201);
  });

  it('gives a key added by two users at once to exactly one of them', async () => {
    const [sam, tess] = await Promise.all([bearerFor({ userId: 'u-sam', username: 'sam' }), bearerFor({ userId: 'u-tess', username: 'tess' })]);
    for (let round = 0; round < 3; round += 1) {
      const { publicKey } = await generateSshKey('ed25519');
      const responses = await Promise.all([addKey(replicas[0]!, sam, publicKey), addKey(replicas[1]!, tess, publicKey)]);
      expect(responses.map((response) => response.statusCode).sort()).toEqual([201, 409]);
      expect(responses.find((response) => response.statusCode === 409)!.json().message).toMatch(/another account/);
    }
  });

  it('lets a removed key be added again once its removal is through', async () => {
    const auth = await bearerFor({ userId: 'u-uma', username: 'uma' });
    const { publicKey } = await generateSshKey('ed25519');
    const { id } = (await addKey(replicas[0]!, auth, publicKey)).json();
    expect((await addKey(replicas[1]!, auth, publicKey)).json().message).toBe('You have added this key already.');
    expect((await replicas[1]!.inject({ method: 'DELETE', url: `/api/v1/user/keys/${id}`, headers: auth })).statusCode).toBe(204);
    const again = await eventually(async () => {
      const response = await addKey(replicas[0]!, auth, publicKey);
      if (response.statusCode !== 201) expect(response.json().message).toMatch(/being removed/);
      return response.statusCode === 201 ? response.json() : undefined;
    });
    expect((await listKeys(auth)).map((k) => k.id)).toEqual([again.id]);
  });

  it('takes over claims a crashed add left behind, once they are stale', async () => {
    const auth = await bearerFor({ userId: 'u-vic', username: 'vic' });
    const [young, old] = await Promise.all([generateSshKey('ed25519'), generateSshKey('ed25519')]);
    const orphan = () => new mongoose.Types.ObjectId().toHexString();
    const hourAgo = new Date(Date.now() - 3_600_000);
    const claims = db.collection<{ _id: string; keyId: string; userId?: string; createdAt: Date }>('key_fingerprints');
    await claims.insertMany([
      { _id: parsePublicKey(young.publicKey).fingerprint, keyId: orphan(), userId: 'u-vic', createdAt: new Date() },
      { _id: parsePublicKey(old.publicKey).fingerprint, keyId: orphan(), userId: 'u-vic', createdAt: hourAgo },
    ]);
    await db.collection<{ _id: string }>('key_slots').insertMany(Array.from({ length: maxKeysPerUser }, (_, n) => ({ _id: `u-vic:${n}`, keyId: orphan(), createdAt: hourAgo })));

    // Its add may still be under way.
    expect((await addKey(replicas[0]!, auth, young.publicKey)).json().message).toBe('You have added this key already.');
    const response = await addKey(replicas[0]!, auth, old.publicKey);
    expect(response.statusCode).toBe(201);
    expect(await claims.findOne({ _id: parsePublicKey(old.publicKey).fingerprint })).toMatchObject({ keyId: response.json().id });
    expect((await listKeys(auth)).map((k) => k.id)).toEqual([response.json().id]);
  });

  it('claims a slot and the fingerprint for a key stored before claims existed, at start', async () => {
    const olga = await bearerFor({ userId: 'u-olga', username: 'olga' });
    expect((await listKeys(olga)).map((k) => k.key)).toEqual([legacyLine.split(' ').slice(0, 2).join(' ')]);
    // Both replicas started at once, each claiming for it: it still holds one slot.
    expect(await db.collection('key_slots').countDocuments({ keyId: legacy._id.toHexString() })).toBe(1);
    const other = await addKey(replicas[1]!, await bearerFor({ userId: 'u-wes', username: 'wes' }), legacyLine);
    expect(other.json().message).toMatch(/another account/);

    const accounts = await Bus.connect({ url: testAmqpUrl(), producer: 'accounts', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
    await accounts.publish(createEnvelope(UserDeleted, { userId: 'u-olga', username: 'olga' }, { producer: 'accounts' }));
    await accounts.close();
    // Removed, and then purged by the relay once its KeyRemoved went out.
    await eventually(async () => (await db.collection('keys').findOne({ _id: legacy._id })) === null);
    expect(await db.collection('key_slots').findOne({ keyId: legacy._id.toHexString() })).toBeNull();
  });
});

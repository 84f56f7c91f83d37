import { afterEach, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { testMongoUrl, uniqueName } from '@tmuxme/testing';
import { ProjectionStore } from '../src/model/projection-store.js';
import type { Change } from '../src/domain/projection-state.js';

/** The durable copy on the real FerretDB: whatever point a process stopped at, loading gives the state it had. */
const connections: mongoose.Connection[] = [];

async function database() {
  const db = mongoose.createConnection(testMongoUrl(uniqueName('projection-store')));
  await db.asPromise();
  connections.push(db);
  return db;
}

afterEach(async () => {
  await Promise.all(connections.splice(0).map((db) => db.close()));
});

const key = (keyId: string): Change => ({ op: 'key', keyId, userId: 'u1', key: `ssh-ed25519 ${keyId}` });
const keyIds = (store: Promise<{ keys: Iterable<{ keyId: string }> }>) => store.then((s) => [...s.keys].map((k) => k.keyId).sort());

describe('ProjectionStore', () => {
  it('loads a checkpoint plus the log written after it, and drops what the checkpoint replaced', async () => {
    const db = await database();
    const store = new ProjectionStore(db);
    const state = await store.load();
    for (const change of [key('a'), key('b'), { op: 'key-removed', keyId: 'a' } as Change]) {
      await store.append(change);
      state.apply(change);
    }
    await store.writeBase(store.rotate(), state.dump());
    await store.append(key('c'));
    expect(store.logLength).toBe(1);

    const reloaded = new ProjectionStore(db);
    const loaded = await reloaded.load();
    expect([...loaded.keys].map((k) => k.keyId).sort()).toEqual(['b', 'c']);
    expect(loaded.apply(key('a'))).toBe(false); // the tombstone came through the checkpoint
    expect(reloaded.logLength).toBe(1);
    const names = (await db.listCollections()).map((c) => c.name).filter((n) => n.startsWith('projection_')).sort();
    expect(names).toEqual(['projection_base_1', 'projection_commits', 'projection_log_1']);
  });

  it('loses nothing when it stopped in the middle of a checkpoint', async () => {
    const db = await database();
    const store = new ProjectionStore(db);
    const state = await store.load();
    await store.append(key('a'));
    state.apply(key('a'));
    // The next generation's log has started, but its base was never committed.
    const generation = store.rotate();
    await db.collection(`projection_base_${generation}`).insertOne({ _id: 0 as never, data: Buffer.from('{"cut off') });
    await store.append(key('b'));

    const reloaded = new ProjectionStore(db);
    expect(await keyIds(reloaded.load())).toEqual(['a', 'b']);
    expect((await db.listCollections()).map((c) => c.name)).not.toContain(`projection_base_${generation}`);
    // And it carries on from there: the next checkpoint and load still agree.
    await reloaded.append(key('c'));
    const again = await new ProjectionStore(db).load();
    expect([...again.keys].map((k) => k.keyId).sort()).toEqual(['a', 'b', 'c']);
  });

  it('loads a checkpoint and log entries written before private leases and sessions', async () => {
    const db = await database();
    // As the release before wrote them: leases of three fields, no sessions, no ended sessions.
    const oldDump = { keys: [['k1', 'u1', 'ssh-ed25519 k1']], leases: [['l1', 'u1', 20001]], removedKeys: [], releasedLeases: ['l0'], deletedUsers: [] };
    await db.collection('projection_base_1').insertOne({ _id: 0 as never, data: new mongoose.mongo.Binary(Buffer.from(JSON.stringify(oldDump))) });
    await db.collection('projection_commits').insertOne({ _id: 1 as never, at: new Date() });
    await db.collection('projection_log_1').insertOne({ _id: 1 as never, change: { op: 'lease', leaseId: 'l2', userId: 'u1', port: 20002 } });

    const store = new ProjectionStore(db);
    const loaded = await store.load();
    expect([...loaded.leases].sort((a, b) => a.port - b.port)).toEqual([
      { leaseId: 'l1', userId: 'u1', port: 20001, private: false }, { leaseId: 'l2', userId: 'u1', port: 20002, private: false },
    ]);
    expect(loaded.size).toEqual({ keys: 1, leases: 2, sessions: 0 });

    // And what it writes from there loads again, sessions included.
    const declared: Change = { op: 'session', sessionId: 's1', hostUserId: 'u1', port: 20001, guestUserIds: ['u2'] };
    await store.append(declared);
    loaded.apply(declared);
    await store.writeBase(store.rotate(), loaded.dump());
    await store.append({ op: 'session-ended', sessionId: 's0' });
    const again = await new ProjectionStore(db).load();
    expect([...again.sessions]).toEqual([{ sessionId: 's1', hostUserId: 'u1', port: 20001, guestUserIds: ['u2'] }]);
    expect(again.apply({ ...declared, sessionId: 's0' })).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { auditQueries, describeScans, monitoredMongoUrl, scanningQueries } from './query-audit.js';
import { testMongoUrl, uniqueName } from './test-env.js';

describe('query audit', () => {
  let connection: mongoose.Connection;

  beforeAll(async () => {
    connection = await mongoose.createConnection(monitoredMongoUrl(testMongoUrl(uniqueName('audit')))).asPromise();
    await connection.collection('things').insertMany([{ _id: 'a' as never, name: 'a' }, { _id: 'b' as never, name: 'b' }]);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('passes a lookup, update and delete by exact _id, and names every other filter', async () => {
    const audit = auditQueries(connection);
    const things = connection.collection<{ _id: string; name: string }>('things');
    await things.findOne({ _id: 'a' });
    await things.updateOne({ _id: 'a' }, { $set: { name: 'A' } });
    await things.deleteOne({ _id: 'zz' });
    await things.findOne({ name: 'b' });
    await things.updateOne({ _id: 'b', name: 'b' }, { $set: { name: 'B' } });
    await things.countDocuments({ _id: { $in: ['a', 'b'] } });
    audit.stop();
    await things.findOne({ name: 'not recorded' });

    expect(audit.queries).toHaveLength(6);
    const scans = await scanningQueries(connection, audit.queries);
    expect(scans.map((s) => [s.command, s.filter])).toEqual([
      ['find', { name: 'b' }],
      ['update', { _id: 'b', name: 'b' }],
      ['aggregate', { _id: { $in: ['a', 'b'] } }],
    ]);
    expect(scans.every((s) => s.filterPushdown === false)).toBe(true);
    expect(describeScans(scans)).toContain('find on things by {"name":"b"} (filterPushdown: false');
  });
});

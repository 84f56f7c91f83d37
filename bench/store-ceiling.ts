/**
 * The embedded store's own ceiling, with no service in the way: CONNECTIONS workers drive the mongodb
 * driver against the run's FerretDB for DURATION seconds each, doing
 *   - single-document inserts, and reads by `_id`, into one database;
 *   - the writes a lease's whole life needs at the least, in order: its slot and port claims, its staged
 *     PortLeased, the lease, the unstaging; then the release: the staged PortReleased, the ending, the
 *     unstaging, and deleting both claims and the lease (11 writes). The figure per lease times its first
 *     five writes, what a lease request waits for.
 * What this prints bounds bench:lease and bench:session-declare from above on the same machine: the
 * services add HTTP, validation and their reads on top.
 *
 *   npm run bench:store-ceiling       (DURATION=10 CONNECTIONS=50 by default; BENCH_QUICK=1: 2 s, 10)
 */
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { startTestServers } from '@tmuxme/testing';
import { figures } from './src/report.js';
import { size } from './src/sizes.js';
import { percentile } from './src/stats.js';

const seconds = size('DURATION', 10, 2);
const connections = size('CONNECTIONS', 50, 10);
const figure = figures('store-ceiling');
const servers = await startTestServers();
const connection = await mongoose.createConnection(servers.mongoUrl, { dbName: `store_ceiling_${Date.now()}` }).asPromise();
const db = connection.db!;

/** Runs `step` in every worker until the time is up; returns each step's ms. */
async function drive(step: (worker: number, round: number) => Promise<number | void>): Promise<{ rate: number; ms: number[] }> {
  const ms: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async (_, worker) => {
    for (let round = 0; performance.now() < until; round += 1) {
      const started = performance.now();
      const timed = await step(worker, round);
      ms.push(typeof timed === 'number' ? timed : performance.now() - started);
    }
  }));
  return { rate: ms.length / seconds, ms };
}

function report(name: string, unit: string, { rate, ms }: { rate: number; ms: number[] }) {
  const [p50, p99] = [percentile(ms, 50), percentile(ms, 99)];
  console.log(`${name.padEnd(26)} ${rate.toFixed(0).padStart(7)} ${unit}/s   p50 ${p50.toFixed(1).padStart(6)} ms   p99 ${p99.toFixed(1).padStart(6)} ms`);
  figure(name, rate, `${unit}/s`);
  figure(`${name} p99`, p99, 'ms');
}

const small = { userId: 'u-123456', note: 'x'.repeat(200), at: new Date() };

try {
  console.log(`FerretDB at ${servers.mongoUrl}, ${connections} workers, ${seconds} s each`);
  const docs = db.collection<{ _id: string }>('docs');
  report('insert', 'inserts', await drive(async () => { await docs.insertOne({ _id: randomUUID(), ...small }); }));
  const ids = (await docs.find({}, { projection: { _id: 1 } }).limit(10_000).toArray()).map((doc) => doc._id);
  report('read by _id', 'reads', await drive(async (worker, round) => { await docs.findOne({ _id: ids[(worker * 7919 + round) % ids.length]! }); }));

  const collection = (name: string) => db.collection<{ _id: string }>(name);
  const [slots, ports, staging, leases, endings] = [collection('slots'), collection('ports'), collection('outbox'), collection('leases'), collection('endings')];
  report('lease lifecycle (writes)', 'leases', await drive(async (worker, round) => {
    const lease = `${worker}-${round}`;
    const started = performance.now();
    await slots.insertOne({ _id: `slot-${lease}`, ...small });
    await ports.insertOne({ _id: `port-${lease}`, ...small });
    await staging.insertOne({ _id: `leased-${lease}`, ...small });
    await leases.insertOne({ _id: lease, ...small });
    await staging.deleteOne({ _id: `leased-${lease}` });
    const leased = performance.now() - started;
    await staging.insertOne({ _id: `released-${lease}`, ...small });
    await endings.insertOne({ _id: `ending-${lease}`, ...small });
    await staging.deleteOne({ _id: `released-${lease}` });
    await Promise.all([slots.deleteOne({ _id: `slot-${lease}` }), ports.deleteOne({ _id: `port-${lease}` }), leases.deleteOne({ _id: lease })]);
    return leased;
  }));
  await db.dropDatabase();
} finally {
  await connection.close();
  await servers.stop();
}

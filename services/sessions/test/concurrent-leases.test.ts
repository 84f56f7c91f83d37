import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearerFor, buildSessionsApp, defaultBox, sessionsOptions, type SessionsApp } from './sessions-app.js';

/**
 * Two replicas on one database lease 500 ports for 20 concurrent clients out of a range of 1,000: the
 * unique claims, not any replica's memory, keep every port with one lease (and every user within the cap).
 */
const leases = 500;
const clients = 20;
const users = 100;
let replicas: SessionsApp[];

beforeAll(async () => {
  const options = await sessionsOptions();
  const boxes = [{ ...await defaultBox(), portRange: { from: 20000, to: 20999 } }];
  replicas = [await buildSessionsApp(options, { boxes }), await buildSessionsApp({ ...options, queue: `${options.queue}-2` }, { boxes })];
});
afterAll(async () => {
  await Promise.all(replicas?.map((app) => app.close()) ?? []);
});

describe('concurrent leasing on two replicas', () => {
  it('hands out 500 distinct ports, each recorded by exactly one claim', async () => {
    const headers = await Promise.all(Array.from({ length: users }, (_, i) => bearerFor({ userId: `u-load-${i}`, username: `load-${i}` })));
    const queue = Array.from({ length: leases }, (_, i) => i);
    const answers: { status: number; port: number; leaseId: string }[] = [];
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async (_, client) => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const response = await replicas[(client + next) % 2]!.inject({ url: '/api/v1/pairing/port', headers: headers[next % users] });
        answers.push({ ...response.json(), status: response.statusCode });
      }
    }));
    const seconds = (performance.now() - started) / 1000;

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const ports = new Set(answers.map((a) => a.port));
    expect(ports.size).toBe(leases);
    const db = replicas[0]!.db;
    const claims = await db.collection('port_claims').find().toArray();
    expect(claims).toHaveLength(leases);
    expect(new Set(claims.map((c) => String(c._id)))).toEqual(new Set([...ports].map((port) => `box-1:${port}`)));
    expect(new Set(claims.map((c) => c.leaseId))).toEqual(new Set(answers.map((a) => a.leaseId)));
    expect(await db.collection('leases').countDocuments()).toBe(leases);
    expect(await db.collection('lease_slots').countDocuments()).toBe(leases);
    console.log(`concurrent leases: ${leases} from ${clients} clients on 2 replicas in ${seconds.toFixed(1)} s `
      + `(${(leases / seconds).toFixed(0)}/s); ${ports.size} distinct ports of 1000, ${claims.length} claims`);
  }, 120_000);
});

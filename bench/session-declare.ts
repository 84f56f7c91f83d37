/**
 * Measures declaring pairing sessions through the gateway, as hosts' CLIs do it: HOSTS hosts each lease
 * SESSIONS_PER_HOST ports, then every lease gets a session (POST /api/v1/pairing/sessions) naming its lease,
 * GUESTS of the other hosts and a host key, CONNECTIONS declarations at a time. Each declaration checks the
 * host, its guests and its lease, and writes the session with its SessionDeclared through the outbox.
 * The first CONNECTIONS declarations warm up and are not counted.
 *
 *   npm run bench:session-declare     (HOSTS=200 SESSIONS_PER_HOST=5 GUESTS=3 CONNECTIONS=50 by default;
 *                                       BENCH_QUICK=1: 20, 2, 3, 10)
 */
import { eventually, generateSshKey } from '@tmuxme/testing';
import { ApiClient } from '@tmuxme/e2e';
import { timedConcurrently } from './src/load.js';
import { figures } from './src/report.js';
import { size } from './src/sizes.js';
import { signUpMany, startBenchStack } from './src/stack.js';
import { percentile } from './src/stats.js';

const hostCount = size('HOSTS', 200, 20);
const perHost = size('SESSIONS_PER_HOST', 5, 2);
const guestCount = size('GUESTS', 3, 3);
const connections = size('CONNECTIONS', 50, 10);
const leaseCount = hostCount * perHost;
if (guestCount >= hostCount) throw new Error(`GUESTS (${guestCount}) must be fewer than HOSTS (${hostCount}): the guests are other hosts`);
if (leaseCount <= connections) throw new Error(`HOSTS × SESSIONS_PER_HOST (${leaseCount}) must exceed CONNECTIONS (${connections}), the warm-up`);

const figure = figures('session-declare');
const stack = await startBenchStack({ sessions: { maxLeasesPerUser: perHost } });

try {
  const hosts = await signUpMany(new ApiClient(stack.gatewayUrl), 'host-', hostCount);
  // Sessions learns of the guests from UserRegistered, on its way through the broker.
  const known = stack.servers.sessions.db.collection('users');
  await eventually(async () => (await known.countDocuments()) >= hostCount, 60_000);
  const hostKey = (await generateSshKey('ed25519')).publicKey;

  const leases = new Array<{ port: number; leaseId: string }>(leaseCount);
  const hostOf = (lease: number) => lease % hostCount;
  const leasing = await timedConcurrently(leaseCount, connections, async (lease) => {
    const leased = await hosts[hostOf(lease)]!.api.request('GET', '/api/v1/pairing/port');
    if (leased.status !== 200) throw new Error(`lease ${lease}: ${leased.status} ${leased.text}`);
    leases[lease] = { port: leased.json.port as number, leaseId: leased.json.leaseId as string };
  });
  console.log(`${leaseCount} ports leased in ${leasing.seconds.toFixed(1)} s`);

  const declare = async (lease: number) => {
    const host = hostOf(lease);
    const guests = Array.from({ length: guestCount }, (_, g) => {
      const username = hosts[(host + 1 + g) % hostCount]!.username;
      return g % 2 === 0 ? username : { username, access: 'ro' };
    });
    const declared = await hosts[host]!.api.request('POST', '/api/v1/pairing/sessions', { ...leases[lease], guests, hostKey });
    if (declared.status !== 201) throw new Error(`declaring on port ${leases[lease]!.port}: ${declared.status} ${declared.text}`);
  };
  await timedConcurrently(connections, connections, declare);
  const measured = leaseCount - connections;
  console.log(`POST /api/v1/pairing/sessions, ${guestCount} guests and a host key each; ${connections} at a time, `
    + `${measured} declarations after ${connections} to warm up; ${hostCount} hosts with ${perHost} leases each`);
  const run = await timedConcurrently(measured, connections, (index) => declare(connections + index));
  const ms = (p: number) => percentile(run.latencies, p).toFixed(1);
  console.log(`declarations ${run.rate.toFixed(0).padStart(6)} /s   p50 ${ms(50)} ms   p99 ${ms(99)} ms   max ${ms(100)} ms   (${run.seconds.toFixed(1)} s)`);
  const stored = await stack.servers.sessions.db.collection('sessions').countDocuments({ deletedAt: null });
  if (stored !== leaseCount) throw new Error(`${leaseCount} sessions declared, but ${stored} stored`);

  figure('declarations', run.rate, 'declarations/s');
  figure('declaration p50', percentile(run.latencies, 50), 'ms');
  figure('declaration p99', percentile(run.latencies, 99), 'ms');
} finally {
  await stack.close();
}

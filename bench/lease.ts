/**
 * Measures leasing through the gateway: every request is a new lease (a slot and a port claimed by
 * insert, the lease and its PortLeased written through the outbox). The per-user cap is raised to 50 so
 * 200 users can hold the whole range, and leases expire after 10 s with a sweep every second, so slots
 * and ports come back while the load runs, as they would in steady use.
 *
 *   npm run bench:lease               (DURATION=10 CONNECTIONS=50 USERS=200 by default; BENCH_QUICK=1: 2 s, 10, 20)
 */
import { ApiClient } from '@tmuxme/e2e';
import { httpLoad, loadLine, warmedUpLoad } from './src/load.js';
import { figures } from './src/report.js';
import { size } from './src/sizes.js';
import { signUpMany, startBenchStack } from './src/stack.js';

const users = size('USERS', 200, 20);
const figure = figures('lease');
const stack = await startBenchStack({ sessions: { maxLeasesPerUser: 50, leaseTtlMs: 10_000, sweepIntervalMs: 1000 } });

try {
  const tokens = (await signUpMany(new ApiClient(stack.gatewayUrl), 'bench-', users)).map((user) => user.accessToken);
  let next = 0;
  console.log(`GET /api/v1/pairing/port, ${httpLoad.connections} connections, ${httpLoad.duration} s after a ${httpLoad.warmUpSeconds} s warm-up; `
    + `${users} users with 50 leases each, range 20000–29999`);
  const result = await warmedUpLoad({
    url: `${stack.gatewayUrl}/api/v1/pairing/port`,
    requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % users]}` } }) }],
  });
  console.log(loadLine('leases', result));
  const live = await stack.servers.sessions.db.collection('port_claims').countDocuments();
  console.log(`${live} ports leased at the end (the rest released by the sweeper as their leases expired)`);
  figure('leases', result.requests.average, 'leases/s');
  figure('lease p50', result.latency.p50, 'ms');
  figure('lease p99', result.latency.p99, 'ms');
  figure('refused or failed requests', result.errors + result.non2xx, 'requests');
} finally {
  await stack.close();
}

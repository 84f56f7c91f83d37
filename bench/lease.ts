/**
 * Measures leasing through the gateway: every request is a new lease (a slot and a port claimed by
 * insert, the lease and its PortLeased written through the outbox). The per-user cap is raised to 50 so
 * 200 users can hold the whole range, and leases expire after 10 s with a sweep every second, so slots
 * and ports come back while the load runs, as they would in steady use.
 *
 *   npm run bench:lease               (DURATION=10 CONNECTIONS=50 USERS=200 by default)
 */
import autocannon from 'autocannon';
import { startFerretDB } from '@tmuxme/testing';
import { ApiClient, startStack } from '@tmuxme/e2e';

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 50);
const users = Number(process.env.USERS ?? 200);
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const ferret = process.env.MONGODB_URI ? undefined : await startFerretDB();
const stack = await startStack({
  mongoUrl: process.env.MONGODB_URI ?? ferret!.url,
  amqpUrl,
  sessions: { maxLeasesPerUser: 50, leaseTtlMs: 10_000, sweepIntervalMs: 1000 },
});

try {
  const api = new ApiClient(stack.gatewayUrl);
  const tokens: string[] = [];
  const signupStarted = performance.now();
  for (let i = 0; i < users; i += 25) {
    const batch = Array.from({ length: Math.min(25, users - i) }, async (_, j) => {
      const { apiToken } = await api.signup(`bench-${i + j}`);
      return (await api.request('POST', '/api/v1/auth/token', undefined, { authorization: `Token ${apiToken}` })).json.accessToken as string;
    });
    tokens.push(...await Promise.all(batch));
  }
  console.log(`${users} users signed up in ${((performance.now() - signupStarted) / 1000).toFixed(1)} s`);

  let next = 0;
  const load = (seconds: number) => autocannon({
    url: `${stack.gatewayUrl}/api/v1/pairing/port`, connections, duration: seconds, pipelining: 1,
    requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % users]}` } }) }],
  });
  console.log(`GET /api/v1/pairing/port, ${connections} connections, ${duration} s after a 3 s warm-up; ${users} users with 50 leases each, range 20000–29999`);
  await load(3);
  const result = await load(duration);
  const statuses = Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => `${status}×${count}`).join(' ');
  console.log(`leases  ${result.requests.average.toFixed(0).padStart(6)} /s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   `
    + `max ${result.latency.max} ms   errors ${result.errors}   statuses ${statuses}`);
  const live = await stack.servers.sessions.db.collection('port_claims').countDocuments();
  console.log(`${live} ports leased at the end (the rest released by the sweeper as their leases expired)`);
} finally {
  await stack.close();
  await ferret?.stop();
}

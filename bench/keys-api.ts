/**
 * Measures the public keys API through the gateway against a static fastify
 * route that returns the same bytes through the same gateway, so the figure
 * says what the keys service and its database cost on top of proxying.
 *
 *   npm run bench:keys-api            (DURATION=10 CONNECTIONS=50 by default)
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { startFerretDB, generateSshKey } from '@tmuxme/testing';
import { ApiClient, startStack } from '@tmuxme/e2e';

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 50);
const amqpUrl = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

function load(url: string, seconds: number) {
  return autocannon({ url, connections, duration: seconds, pipelining: 1 });
}

const ferret = process.env.MONGODB_URI ? undefined : await startFerretDB();
const staticServer = Fastify();
let body = '';
staticServer.get('/bench/static-keys.json', (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
const staticUrl = await staticServer.listen({ port: 0, host: '127.0.0.1' });

const stack = await startStack({
  mongoUrl: process.env.MONGODB_URI ?? ferret!.url,
  amqpUrl,
  extraUpstreams: { static: staticUrl },
  extraRoutes: [{ url: '/bench/static-keys.json', to: 'static' }],
});

try {
  const api = new ApiClient(stack.gatewayUrl);
  const { user } = await api.signup('bench-user');
  for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
    await user.request('POST', '/api/v1/user/keys', { key: (await generateSshKey(type)).publicKey });
  }
  const keysUrl = `${stack.gatewayUrl}/api/v1/users/bench-user/keys.json`;
  body = (await api.request('GET', '/api/v1/users/bench-user/keys.json')).text;
  const staticBody = (await api.request('GET', '/bench/static-keys.json')).text;
  if (staticBody !== body) throw new Error('the static route does not return the same bytes');

  console.log(`keys.json is ${Buffer.byteLength(body)} bytes (3 keys); ${connections} connections, ${duration} s per run after a 3 s warm-up`);
  const results: Record<string, autocannon.Result> = {};
  for (const [name, url] of [['static', `${stack.gatewayUrl}/bench/static-keys.json`], ['keys.json', keysUrl]] as const) {
    await load(url, 3);
    results[name] = await load(url, duration);
  }
  const row = (name: string, r: autocannon.Result) =>
    `${name.padEnd(10)} ${r.requests.average.toFixed(0).padStart(8)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   errors ${r.errors + r.non2xx}`;
  console.log(row('static', results.static!));
  console.log(row('keys.json', results['keys.json']!));
  const ratio = results['keys.json']!.requests.average / results.static!.requests.average;
  console.log(`keys.json throughput is ${(ratio * 100).toFixed(0)}% of the static route (target ≥ 60%); p99 ${results['keys.json']!.latency.p99} ms (target < 25 ms)`);
} finally {
  await stack.close();
  await staticServer.close();
  await ferret?.stop();
}

/**
 * Measures the public keys API through the gateway against a static fastify
 * route that returns the same bytes through the same gateway, so the figure
 * says what the keys service and its database cost on top of proxying.
 *
 *   npm run bench:keys-api            (DURATION=10 CONNECTIONS=50 by default; BENCH_QUICK=1: 2 s, 10)
 */
import type autocannon from 'autocannon';
import Fastify from 'fastify';
import { generateSshKey } from '@tmuxme/testing';
import { ApiClient } from '@tmuxme/e2e';
import { httpLoad, loadLine, warmedUpLoad } from './src/load.js';
import { figures } from './src/report.js';
import { startBenchStack } from './src/stack.js';

const figure = figures('keys-api');
const staticServer = Fastify();
let body = '';
staticServer.get('/bench/static-keys.json', (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
const staticUrl = await staticServer.listen({ port: 0, host: '127.0.0.1' });

const stack = await startBenchStack({
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

  console.log(`keys.json is ${Buffer.byteLength(body)} bytes (3 keys); ${httpLoad.connections} connections, `
    + `${httpLoad.duration} s per run after a ${httpLoad.warmUpSeconds} s warm-up`);
  const results: Record<string, autocannon.Result> = {};
  for (const [name, url] of [['static', `${stack.gatewayUrl}/bench/static-keys.json`], ['keys.json', keysUrl]] as const) {
    results[name] = await warmedUpLoad({ url });
    console.log(loadLine(name, results[name]));
  }
  const keys = results['keys.json']!;
  const ratio = keys.requests.average / results.static!.requests.average;
  console.log(`keys.json throughput is ${(ratio * 100).toFixed(0)}% of the static route (target ≥ 60%); p99 ${keys.latency.p99} ms (target < 25 ms)`);
  figure('static route through the gateway', results.static!.requests.average, 'req/s');
  figure('keys.json', keys.requests.average, 'req/s');
  figure('keys.json / static route', ratio * 100, '%', '>= 60');
  figure('keys.json p99', keys.latency.p99, 'ms', '< 25');
  if (keys.errors + keys.non2xx > 0) throw new Error(`keys.json answered ${keys.errors} errors and ${keys.non2xx} non-2xx responses`);
} finally {
  await stack.close();
  await staticServer.close();
}

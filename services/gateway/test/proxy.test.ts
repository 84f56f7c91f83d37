import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '@tmuxme/testing';
import gatewayApp from '../src/app.js';

/** Real upstream servers that echo who they are and what reached them. */
async function echoServer(name: string): Promise<FastifyInstance> {
  const server = Fastify();
  server.all('/*', async (request) => ({
    service: name, method: request.method, url: request.url, body: request.body ?? null,
    requestId: request.headers['x-request-id'], forwardedFor: request.headers['x-forwarded-for'],
  }));
  await server.listen({ port: 0, host: '127.0.0.1' });
  return server;
}

const url = (server: FastifyInstance) => {
  const address = server.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
};

let upstreams: Record<'accounts' | 'keys' | 'sessions', FastifyInstance>;
let gateway: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  upstreams = { accounts: await echoServer('accounts'), keys: await echoServer('keys'), sessions: await echoServer('sessions') };
  gateway = await buildApp(gatewayApp, {
    upstreams: { accounts: url(upstreams.accounts), keys: url(upstreams.keys), sessions: url(upstreams.sessions) },
  }, { trustRequestId: false });
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all(Object.values(upstreams ?? {}).map((s) => s.close()));
});

describe('gateway routing', () => {
  it.each([
    ['POST', '/api/v1/users', 'accounts'],
    ['POST', '/api/v1/auth/login', 'accounts'],
    ['POST', '/api/v1/auth/token', 'accounts'],
    ['GET', '/api/v1/user', 'accounts'],
    ['PATCH', '/api/v1/user', 'accounts'],
    ['GET', '/api/v1/user/tokens', 'accounts'],
    ['DELETE', '/api/v1/user/tokens/abc', 'accounts'],
    ['GET', '/api/v1/user/keys', 'keys'],
    ['DELETE', '/api/v1/user/keys/abc', 'keys'],
    ['GET', '/api/v1/users/alice/keys.json', 'keys'],
    ['GET', '/alice.keys', 'keys'],
    ['GET', '/api/v1/pairing/port', 'sessions'],
  ])('%s %s goes to %s', async (method, path, service) => {
    const response = await gateway.inject({ method: method as 'GET', url: path, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: { a: 1 } }) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ service, method, url: path });
  });

  it('gives every request a fresh id, ignoring one the client sent, and passes the client address', async () => {
    const response = await gateway.inject({ url: '/api/v1/user', headers: { 'x-request-id': 'forged' }, remoteAddress: '203.0.113.9' });
    const { requestId, forwardedFor } = response.json();
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-request-id']).toBe(requestId);
    expect(forwardedFor).toBe('203.0.113.9');
  });

  it('keeps the query string and answers unknown paths with a 404 and a code', async () => {
    expect((await gateway.inject({ url: '/api/v1/users/bob/keys.json?x=1' })).json().url).toBe('/api/v1/users/bob/keys.json?x=1');
    // Internal snapshots are for services on the private network, never for the public entry.
    expect((await gateway.inject({ url: '/internal/v1/snapshot/keys' })).statusCode).toBe(404);
    const missing = await gateway.inject({ url: '/api/v1/nothing-here' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await gateway.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('answers 502 with a code when a service is down', async () => {
    const down = await buildApp(gatewayApp, { upstreams: { accounts: 'http://127.0.0.1:1' } });
    const response = await down.inject({ url: '/api/v1/user' });
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringContaining('accounts') });
    expect(response.headers['retry-after']).toBe('5');
    await down.close();
  });
});

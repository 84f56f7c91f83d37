import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import Fastify from 'fastify';
import { generateSigningKeys } from '@tmuxme/auth';
import { createServer, type Server } from '@tmuxme/service-kit';
import { testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import accountsApp from '@tmuxme/accounts/app';
import keysApp from '@tmuxme/keys/app';

export interface Upstreams {
  urls: { accounts: string; keys: string; sessions: string };
  /** What the last request to the echoing stand-in for sessions carried. */
  lastSeenBySessions(): { method: string; url: string; headers: Record<string, unknown> } | undefined;
  close(): Promise<void>;
}

async function listen<O extends FastifyPluginOptions>(plugin: FastifyPluginAsync<O>, options: O): Promise<{ server: Server; url: string }> {
  const server = createServer({ logger: false });
  await server.register(plugin as FastifyPluginAsync, options as object);
  return { server, url: await server.listen({ port: 0, host: '127.0.0.1' }) };
}

/**
 * The real accounts and keys services on loopback ports, on fresh databases,
 * and a real HTTP server in place of sessions that records the headers that
 * reached it: the one way to see what the gateway forwards.
 */
export async function startUpstreams(): Promise<Upstreams> {
  const signing = generateSigningKeys();
  const bus = { amqpUrl: testAmqpUrl(), ...testExchanges(), outboxIntervalMs: 200 };
  const accounts = await listen(accountsApp, {
    ...bus, mongoUrl: testMongoUrl(uniqueName('gw_accounts')),
    jwtPrivateKey: signing.privateKey, jwtPublicKey: signing.publicKey, accessTokenTtlSeconds: 900, bcryptCost: 4,
    loginLimits: { perAddress: 1000, perAccount: 20, windowSeconds: 60 },
  });
  const keys = await listen(keysApp, {
    ...bus, mongoUrl: testMongoUrl(uniqueName('gw_keys')), queue: uniqueName('gw_keys'), jwtPublicKey: signing.publicKey,
  });
  let seen: ReturnType<Upstreams['lastSeenBySessions']>;
  const sessions = Fastify();
  sessions.all('/*', async (request) => {
    seen = { method: request.method, url: request.url, headers: { ...request.headers } };
    return { seen: true };
  });
  const sessionsUrl = await sessions.listen({ port: 0, host: '127.0.0.1' });
  return {
    urls: { accounts: accounts.url, keys: keys.url, sessions: sessionsUrl },
    lastSeenBySessions: () => seen,
    async close() {
      await Promise.all([accounts.server.close(), keys.server.close(), sessions.close()]);
    },
  };
}

import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import { generateSigningKeys } from '@tmuxme/auth';
import { createServer, type Server } from '@tmuxme/service-kit';
import { testExchanges, uniqueName } from '@tmuxme/testing';
import accountsApp from '@tmuxme/accounts/app';
import keysApp from '@tmuxme/keys/app';
import gatewayApp, { type GatewayOptions } from '@tmuxme/gateway/app';

export interface StackOptions {
  mongoUrl: string;
  /** The broker URL services use; a test may point it at a TcpProxy. */
  amqpUrl: string;
  extraRoutes?: GatewayOptions['extraRoutes'];
  extraUpstreams?: GatewayOptions['upstreams'];
}

export interface Stack {
  gatewayUrl: string;
  exchange: string;
  servers: Record<'accounts' | 'keys' | 'gateway', Server>;
  close(): Promise<void>;
}

async function listen<O extends FastifyPluginOptions>(plugin: FastifyPluginAsync<O>, options: O, trustRequestId = true): Promise<{ server: Server; url: string }> {
  const server = createServer({ logger: false, trustRequestId });
  await server.register(plugin as FastifyPluginAsync, options as object);
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, url };
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** accounts, keys and the gateway on free loopback ports, each with its own database, sharing one private exchange. */
export async function startStack({ mongoUrl, amqpUrl, extraRoutes, extraUpstreams }: StackOptions): Promise<Stack> {
  const signing = generateSigningKeys();
  const run = uniqueName('stack').replace(/-/g, '_');
  const exchanges = testExchanges();
  const bus = { amqpUrl, ...exchanges, outboxIntervalMs: 250 };

  const accounts = await listen(accountsApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_accounts`),
    jwtPrivateKey: signing.privateKey, jwtPublicKey: signing.publicKey, accessTokenTtlSeconds: 900, bcryptCost: 4,
    loginLimits: { perAddress: 10_000, perAccount: 10, windowSeconds: 60 },
  });
  const keys = await listen(keysApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_keys`), queue: `${run}.keys`, jwtPublicKey: signing.publicKey,
  });
  const gateway = await listen(gatewayApp, {
    upstreams: { accounts: accounts.url, keys: keys.url, ...extraUpstreams },
    extraRoutes,
  }, false);

  return {
    gatewayUrl: gateway.url,
    exchange: exchanges.exchange,
    servers: { accounts: accounts.server, keys: keys.server, gateway: gateway.server },
    async close() {
      await gateway.server.close();
      await Promise.all([accounts.server.close(), keys.server.close()]);
    },
  };
}

import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import { generateSigningKeys } from '@tmuxme/auth';
import { createServer, type Server } from '@tmuxme/service-kit';
import { generateSshKey, testExchanges, uniqueName } from '@tmuxme/testing';
import accountsApp from '@tmuxme/accounts/app';
import keysApp from '@tmuxme/keys/app';
import sessionsApp, { type SessionsOptions } from '@tmuxme/sessions/app';
import gatewayApp, { type GatewayOptions } from '@tmuxme/gateway/app';
import notifierApp from '@tmuxme/notifier/app';
import tunnelSyncApp from '@tmuxme/tunnel-sync/app';

export interface StackOptions {
  mongoUrl: string;
  /** The broker URL services use; a test may point it at a TcpProxy. */
  amqpUrl: string;
  extraRoutes?: GatewayOptions['extraRoutes'];
  extraUpstreams?: Partial<GatewayOptions['upstreams']>;
  /** Lease limits and timings for the sessions service, e.g. the benchmark's. */
  sessions?: Partial<Pick<SessionsOptions, 'boxes' | 'maxLeasesPerUser' | 'leaseTtlMs' | 'sessionTtlMs' | 'sweepIntervalMs'>>;
  /** The built web pages the gateway serves at `/` (without it, pages answer 503). */
  webRoot?: string;
  /** Where the gateway listens (default 127.0.0.1): other network namespaces need an address of ours. */
  gatewayHost?: string;
  /** Runs the notifier too, mailing invitations through this SMTP server. */
  smtpUrl?: string;
  /** Runs tunnel-sync too, keeping this file for the stack's first tunnel box. */
  authorizedKeysFile?: string;
}

export interface Stack {
  gatewayUrl: string;
  exchange: string;
  servers: Record<'accounts' | 'keys' | 'sessions' | 'gateway', Server> & Partial<Record<'notifier' | 'tunnelSync', Server>>;
  /** The tunnel box the sessions service leases ports on (by default with a fresh host key). */
  tunnelBox: SessionsOptions['boxes'][number];
  close(): Promise<void>;
}

async function listen<O extends FastifyPluginOptions>(plugin: FastifyPluginAsync<O>, options: O, trustRequestId = true, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const server = createServer({ logger: false, trustRequestId });
  await server.register(plugin as FastifyPluginAsync, options as object);
  const url = await server.listen({ port: 0, host });
  return { server, url };
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** accounts, keys, sessions and the gateway on free loopback ports, each with its own database, sharing one private exchange. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { mongoUrl, amqpUrl, extraRoutes, extraUpstreams, sessions: sessionsSettings, webRoot, gatewayHost, smtpUrl, authorizedKeysFile } = options;
  const signing = generateSigningKeys();
  const serviceToken = randomBytes(24).toString('hex');
  const run = uniqueName('stack').replace(/-/g, '_');
  const exchanges = testExchanges();
  const bus = { amqpUrl, ...exchanges, outboxIntervalMs: 250 };

  const accounts = await listen(accountsApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_accounts`),
    jwtPrivateKey: signing.privateKey, jwtPublicKey: signing.publicKey, accessTokenTtlSeconds: 900, bcryptCost: 4,
    loginLimits: { perAddress: 10_000, perAccount: 10, windowSeconds: 60 },
  });
  const keys = await listen(keysApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_keys`), queue: `${run}.keys`, jwtPublicKey: signing.publicKey, serviceToken,
  });
  const boxes = sessionsSettings?.boxes ?? [{
    tunnelHost: '127.0.0.1', tunnelPort: 2222, hostKey: (await generateSshKey('ed25519', undefined, 'root@tunnel-box')).publicKey,
    ports: { first: 20000, last: 29999 },
  }];
  const sessions = await listen(sessionsApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_sessions`), queue: `${run}.sessions`, jwtPublicKey: signing.publicKey, serviceToken,
    ...sessionsSettings, boxes,
  });
  const gateway = await listen(gatewayApp, {
    upstreams: { accounts: accounts.url, keys: keys.url, sessions: sessions.url, ...extraUpstreams },
    extraRoutes,
    webRoot,
  }, false, gatewayHost);
  const notifier = smtpUrl ? await listen(notifierApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_notifier`), queue: `${run}.notifier`, smtpUrl,
    mailFrom: 'tmux.me <invitations@tmux.test>', publicUrl: gateway.url,
  }) : undefined;
  const tunnelSync = authorizedKeysFile ? await listen(tunnelSyncApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_tunnel_sync`), queue: `${run}.tunnel-sync`, tunnelHost: boxes[0]!.tunnelHost,
    authorizedKeysFile, serviceToken, keysUrl: keys.url, sessionsUrl: sessions.url,
  }) : undefined;

  return {
    gatewayUrl: gateway.url,
    exchange: exchanges.exchange,
    servers: {
      accounts: accounts.server, keys: keys.server, sessions: sessions.server, gateway: gateway.server, notifier: notifier?.server, tunnelSync: tunnelSync?.server,
    },
    tunnelBox: boxes[0]!,
    async close() {
      await gateway.server.close();
      await Promise.all([notifier?.server.close(), tunnelSync?.server.close()]);
      await Promise.all([accounts.server.close(), keys.server.close(), sessions.server.close()]);
    },
  };
}

import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';
import { generateSigningKeys } from '@tmuxme/auth';
import { createServer, serviceLogger, type Server } from '@tmuxme/service-kit';
import { announceTunnelBox, eventually, generateSshKey, testExchanges, uniqueName, type TunnelBoxAnnouncement } from '@tmuxme/testing';
import accountsApp from '@tmuxme/accounts/app';
import keysApp from '@tmuxme/keys/app';
import sessionsApp, { type SessionsOptions } from '@tmuxme/sessions/app';
import gatewayApp, { type GatewayOptions } from '@tmuxme/gateway/app';
import notifierApp, { type NotifierOptions } from '@tmuxme/notifier/app';
import tunnelSyncApp, { type TunnelSyncOptions } from '@tmuxme/tunnel-sync/app';

export interface StackOptions {
  mongoUrl: string;
  /** The broker URL services use; a test may point it at a TcpProxy. */
  amqpUrl: string;
  /**
   * The exchanges the services share: by default names private to this stack. A service run from its
   * main.ts beside the stack may only know the production names.
   */
  exchanges?: { exchange: string; deadLetterExchange: string };
  extraRoutes?: GatewayOptions['extraRoutes'];
  extraUpstreams?: Partial<GatewayOptions['upstreams']>;
  /** Lease limits and timings for the sessions service, e.g. the benchmark's. */
  sessions?: Partial<Pick<SessionsOptions, 'maxLeasesPerUser' | 'leaseTtlMs' | 'sessionTtlMs' | 'sweepIntervalMs'>>;
  /** The tunnel boxes sessions leases on (by default one on 127.0.0.1:2222 with a fresh host key). */
  boxes?: TunnelBoxAnnouncement[];
  /**
   * Each box with a tunnel-sync announces itself every second while its sshd answers on 127.0.0.1, and
   * sessions drops a box silent for 3 s, as in production. By default the stack announces the boxes once,
   * and sessions keeps them: a stack without a real sshd still leases.
   */
  liveBoxes?: boolean;
  /** The built web pages the gateway serves at `/` (without it, pages answer 503). */
  webRoot?: string;
  /** Where the gateway listens (default 127.0.0.1): other network namespaces need an address of ours. */
  gatewayHost?: string;
  /** Runs the notifier too, mailing invitations through this SMTP server. */
  smtpUrl?: string;
  /** How soon the notifier gives up on an event it cannot handle (by default as in production: 10 deliveries, from 1 s apart). */
  notifier?: Partial<Pick<NotifierOptions, 'maxDeliveries' | 'retryDelayMs'>>;
  /** Runs tunnel-sync too, keeping this file (and the other two beside it) for the stack's first tunnel box. */
  authorizedKeysFile?: string;
  /** The group tunnel-sync gives the file (default `tunnel`, which the tunnel box's setup.sh creates). */
  tunnelGroup?: string;
  /** Where every service writes its JSON log lines, as in production (each line names its service); by default they log nothing. */
  logDestination?: LogDestination;
}

/** What pino writes a service's log lines to: one JSON line per call. */
export interface LogDestination {
  write(line: string): void;
}

export type StackService = 'accounts' | 'keys' | 'sessions' | 'gateway' | 'notifier' | 'tunnelSync';

/** One route as an app registered it, e.g. `DELETE /api/v1/user/keys/:id`. */
export interface StackRoute {
  service: StackService;
  method: string;
  url: string;
}

export interface Stack {
  gatewayUrl: string;
  exchange: string;
  deadLetterExchange: string;
  servers: Record<'accounts' | 'keys' | 'sessions' | 'gateway', Server> & Partial<Record<'notifier' | 'tunnelSync', Server>>;
  /** Each consuming service's queue (failures go to `<queue>.dead`), whether or not it runs. */
  queues: Record<'keys' | 'sessions' | 'notifier' | 'tunnelSync', string>;
  /** Every route of every app, recorded as it was registered: what a test walks to call each one. */
  routes: StackRoute[];
  /** The key pair accounts signs access tokens with, so a test can mint tokens accounts never would (expired ones). */
  signingKeys: { privateKey: string; publicKey: string };
  /** The first tunnel box the sessions service leases ports on (by default with a fresh host key). */
  tunnelBox: TunnelBoxAnnouncement;
  /** Starts a tunnel-sync for a box, keeping its files, as the stack's own one is started. */
  startTunnelSync(box: TunnelBoxAnnouncement, authorizedKeysFile: string, overrides?: Partial<TunnelSyncOptions>): Promise<Server>;
  close(): Promise<void>;
}

interface Listening {
  /** Whose routes these are, in `Stack.routes`. */
  service: StackService;
  routes: StackRoute[];
  trustRequestId?: boolean;
  host?: string;
  logDestination?: LogDestination;
}

async function listen<O extends FastifyPluginOptions>(
  plugin: FastifyPluginAsync<O>, options: O, { service, routes, trustRequestId = true, host = '127.0.0.1', logDestination }: Listening,
): Promise<{ server: Server; url: string }> {
  const logging = logDestination ? { loggerInstance: serviceLogger(service, 'info', logDestination) } : { logger: false };
  const server = createServer({ ...logging, trustRequestId });
  // Added before the app registers anything, so it sees every route, those of nested plugins too.
  server.addHook('onRoute', ({ method, url }) => {
    for (const one of [method].flat()) routes.push({ service, method: one, url });
  });
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
  const {
    mongoUrl, amqpUrl, extraRoutes, extraUpstreams, sessions: sessionsSettings, webRoot, gatewayHost, smtpUrl, authorizedKeysFile, tunnelGroup, logDestination,
  } = options;
  const signing = generateSigningKeys();
  const serviceToken = randomBytes(24).toString('hex');
  const run = uniqueName('stack').replace(/-/g, '_');
  const exchanges = options.exchanges ?? testExchanges();
  const bus = { amqpUrl, ...exchanges, outboxIntervalMs: 250 };
  const routes: StackRoute[] = [];
  const queues = { keys: `${run}.keys`, sessions: `${run}.sessions`, notifier: `${run}.notifier`, tunnelSync: `${run}.tunnel-sync` };

  const accounts = await listen(accountsApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_accounts`),
    jwtPrivateKey: signing.privateKey, jwtPublicKey: signing.publicKey, accessTokenTtlSeconds: 900, bcryptCost: 4,
    loginLimits: { perAddress: 10_000, perAccount: 10, windowSeconds: 60 },
  }, { service: 'accounts', routes, logDestination });
  const keys = await listen(keysApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_keys`), queue: queues.keys, jwtPublicKey: signing.publicKey, serviceToken,
  }, { service: 'keys', routes, logDestination });
  const boxes = options.boxes ?? [{
    boxId: 'box-1', tunnelHost: '127.0.0.1', tunnelPort: 2222, hostKey: (await generateSshKey('ed25519', undefined, 'root@tunnel-box')).publicKey,
    portRange: { from: 20000, to: 29999 },
  }];
  const sessions = await listen(sessionsApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_sessions`), queue: queues.sessions, jwtPublicKey: signing.publicKey, serviceToken,
    boxSilenceMs: options.liveBoxes ? 3000 : 24 * 3_600_000, ...sessionsSettings,
  }, { service: 'sessions', routes, logDestination });
  const gateway = await listen(gatewayApp, {
    upstreams: { accounts: accounts.url, keys: keys.url, sessions: sessions.url, ...extraUpstreams },
    extraRoutes,
    webRoot,
  }, { service: 'gateway', routes, logDestination, trustRequestId: false, host: gatewayHost });
  const notifier = smtpUrl ? await listen(notifierApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_notifier`), queue: queues.notifier, smtpUrl,
    mailFrom: 'tmux.me <invitations@tmux.test>', publicUrl: gateway.url, ...options.notifier,
  }, { service: 'notifier', routes, logDestination }) : undefined;
  const startTunnelSync = async ({ boxId, tunnelHost, ...announced }: TunnelBoxAnnouncement, file: string, overrides: Partial<TunnelSyncOptions> = {}) => (await listen(tunnelSyncApp, {
    ...bus, mongoUrl: databaseUrl(mongoUrl, `${run}_tunnel_sync_${boxId.replace(/\W/g, '_')}`), queue: `${queues.tunnelSync}.${boxId}`, boxId, tunnelHost,
    authorizedKeysFile: file, tunnelGroup, serviceToken, keysUrl: keys.url, sessionsUrl: sessions.url,
    ...(options.liveBoxes ? { heartbeat: { ...announced, draining: false, intervalMs: 1000, sshd: { host: '127.0.0.1', port: announced.tunnelPort } } } : {}),
    ...overrides,
  }, { service: 'tunnelSync', routes, logDestination })).server;
  const tunnelSync = authorizedKeysFile ? await startTunnelSync(boxes[0]!, authorizedKeysFile, { queue: queues.tunnelSync }) : undefined;
  // Without live boxes, one heartbeat each stands in for the boxes' tunnel-syncs.
  for (const box of options.liveBoxes ? [] : boxes) await announceTunnelBox(amqpUrl, exchanges.exchange, box);
  const announced = options.liveBoxes ? (tunnelSync ? 1 : 0) : boxes.length;
  await eventually(async () => (await sessions.server.db.collection('boxes').countDocuments()) >= announced, 20_000);

  return {
    gatewayUrl: gateway.url,
    exchange: exchanges.exchange,
    deadLetterExchange: exchanges.deadLetterExchange,
    servers: {
      accounts: accounts.server, keys: keys.server, sessions: sessions.server, gateway: gateway.server, notifier: notifier?.server, tunnelSync,
    },
    queues,
    routes,
    signingKeys: signing,
    tunnelBox: boxes[0]!,
    startTunnelSync,
    async close() {
      await gateway.server.close();
      await Promise.all([notifier?.server.close(), tunnelSync?.close()]);
      await Promise.all([accounts.server.close(), keys.server.close(), sessions.server.close()]);
    },
  };
}

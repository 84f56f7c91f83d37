import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { KeyAdded, KeyRemoved, PortLeased, PortReleased, SessionDeclared, SessionEnded, SessionMoved, UserDeleted } from '@tmuxme/events';
import { busPlugin, databasePlugin, healthPlugin, on, serviceAuthPlugin, subscriptionsPlugin } from '@tmuxme/service-kit';
import { ProjectionStore } from './model/projection-store.js';
import { Projection } from './domain/projection.js';
import { SnapshotSource } from './domain/snapshot-source.js';
import { BoxHeartbeat, type BoxAnnouncement } from './domain/box-heartbeat.js';
import { addKeyOnKeyAdded } from './events/add-key-on-key-added.js';
import { removeKeyOnKeyRemoved } from './events/remove-key-on-key-removed.js';
import { addLeaseOnPortLeased } from './events/add-lease-on-port-leased.js';
import { releaseLeaseOnPortReleased } from './events/release-lease-on-port-released.js';
import { forgetUserOnUserDeleted } from './events/forget-user-on-user-deleted.js';
import { admitGuestsOnSessionDeclared } from './events/admit-guests-on-session-declared.js';
import { closeSessionOnSessionEnded } from './events/close-session-on-session-ended.js';
import { admitGuestsOnSessionMoved } from './events/admit-guests-on-session-moved.js';
import { internalConvergeRoutes } from './routes/internal-converge.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The box's projection: `converge()` without going through HTTP, and its file writers. */
    tunnelSync: Projection;
  }
}

export interface TunnelSyncOptions {
  mongoUrl: string;
  amqpUrl: string;
  exchange?: string;
  deadLetterExchange?: string;
  /** This box's host name: guests and hosts reach the box by it, and events from before box ids name the box by it. */
  tunnelHost: string;
  /**
   * This box's id (see `boxIdPattern` in @tmuxme/events): sessions stamps it on the box's leases and sessions,
   * and only those reach the box's queue. Default: tunnelHost in lower case.
   */
  boxId?: string;
  /** The box's own queue; default `tunnel-sync.<boxId>`. */
  queue?: string;
  /**
   * What the box announces to sessions every `intervalMs` (default 5 s), while `sshd` (where its sshd listens)
   * answers: sessions leases ports only on boxes it hears from. Without it the box announces nothing.
   */
  heartbeat?: Omit<BoxAnnouncement, 'boxId' | 'tunnelHost'> & { intervalMs?: number; sshd?: { host: string; port: number } };
  /** The tunnel user's: hosts of public leases. */
  authorizedKeysFile: string;
  /** The private tunnel user's: hosts of private leases. Default `private_authorized_keys` beside authorizedKeysFile. */
  privateAuthorizedKeysFile?: string;
  /** The join user's: guests of this box's sessions. Default `join_authorized_keys` beside authorizedKeysFile. */
  joinAuthorizedKeysFile?: string;
  /** Group of all three files. Default `tunnel`. */
  tunnelGroup?: string;
  /** Presented to keys and sessions for their snapshots, and wanted by POST /internal/v1/converge. */
  serviceToken?: string;
  keysUrl?: string;
  sessionsUrl?: string;
  /** Default 10,000 logged changes. */
  checkpointEvery?: number;
  /** How far behind this box's events a snapshot may be (see Projection); default 30 s. */
  snapshotLagMs?: number;
}

/**
 * tunnel-sync: runs on a tunnel box and owns the authorized_keys of its tunnel users and its join user,
 * from key, lease and session events, and from the keys and sessions snapshots at start and on demand.
 */
const tunnelSyncApp: FastifyPluginAsync<TunnelSyncOptions> = async (app, options) => {
  const { tunnelHost, serviceToken, keysUrl, sessionsUrl, authorizedKeysFile, heartbeat } = options;
  const boxId = options.boxId ?? tunnelHost.toLowerCase();
  const beside = (name: string) => join(dirname(authorizedKeysFile), name);
  await app.register(healthPlugin, { service: 'tunnel-sync' });
  await app.register(databasePlugin, { url: options.mongoUrl });

  const store = new ProjectionStore(app.db);
  const snapshots = serviceToken && keysUrl && sessionsUrl ? new SnapshotSource({ keysUrl, sessionsUrl, serviceToken, boxId }) : undefined;
  const projection = new Projection({
    state: await store.load(),
    store,
    boxId,
    tunnelHost,
    authorizedKeysFile,
    privateAuthorizedKeysFile: options.privateAuthorizedKeysFile ?? beside('private_authorized_keys'),
    joinAuthorizedKeysFile: options.joinAuthorizedKeysFile ?? beside('join_authorized_keys'),
    tunnelGroup: options.tunnelGroup ?? 'tunnel',
    snapshots,
    checkpointEvery: options.checkpointEvery ?? 10_000,
    snapshotLagMs: options.snapshotLagMs ?? 30_000,
    logger: app.log,
  });
  app.decorate('tunnelSync', projection);
  // Registered before the bus, so it runs after the consumers have drained and before the database closes.
  app.addHook('onClose', () => projection.close());
  // One check per file, so /readyz says which of them cannot be written.
  app.readiness.add('authorized_keys', () => projection.writers.tunnel.healthy);
  app.readiness.add('private_authorized_keys', () => projection.writers.private.healthy);
  app.readiness.add('join_authorized_keys', () => projection.writers.join.healthy);
  // What the box knew when it stopped, in place before the first event or snapshot is applied.
  await projection.write();

  await app.register(busPlugin, { url: options.amqpUrl, producer: 'tunnel-sync', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  await app.register(serviceAuthPlugin, { serviceToken: serviceToken ?? '' });
  await app.register(subscriptionsPlugin, {
    queue: options.queue ?? `tunnel-sync.${boxId}`,
    boxId,
    // One at a time keeps the queue's order, and keeps writes to the projection from overlapping.
    prefetch: 1,
    subscriptions: [
      on(KeyAdded, addKeyOnKeyAdded(projection)),
      on(KeyRemoved, removeKeyOnKeyRemoved(projection)),
      on(PortLeased, addLeaseOnPortLeased(projection)),
      on(PortReleased, releaseLeaseOnPortReleased(projection)),
      on(UserDeleted, forgetUserOnUserDeleted(projection)),
      on(SessionDeclared, admitGuestsOnSessionDeclared(projection)),
      on(SessionEnded, closeSessionOnSessionEnded(projection)),
      on(SessionMoved, admitGuestsOnSessionMoved(projection)),
    ],
  });
  if (heartbeat) {
    const { intervalMs = 5000, sshd, ...announced } = heartbeat;
    const beats = new BoxHeartbeat({
      bus: app.bus, box: { ...announced, boxId, tunnelHost }, intervalMs, sshd, liveLeases: () => projection.liveLeases, logger: app.log,
    });
    app.addHook('onReady', async () => beats.start());
    // Before the bus closes (onClose hooks run in reverse order of registration): the last one says "no more leases".
    app.addHook('onClose', () => beats.stop());
  }
  await app.register(internalConvergeRoutes, { projection });
  // Right even after missed events: a new box, a restart, a queue that was purged.
  if (snapshots) app.addHook('onReady', async () => void projection.convergeUntilDone());
};

export default fp(tunnelSyncApp, { name: 'tunnel-sync-app' });

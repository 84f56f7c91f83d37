import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { TunnelBoxHeartbeat, UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import {
  authPlugin, busPlugin, databasePlugin, healthPlugin, on, outboxPlugin, replicaViewPlugin, serviceAuthPlugin, subscriptionsPlugin,
} from '@tmuxme/service-kit';
import { leaseModel } from './model/lease.js';
import { sessionModel } from './model/session.js';
import { endingModel } from './model/ending.js';
import { leaseSlotModel, portClaimModel, sessionMoveModel } from './model/claim.js';
import { usernameModel, userModel } from './model/user.js';
import { boxModel } from './model/box.js';
import { TunnelBoxes, type Heartbeat } from './domain/tunnel-boxes.js';
import { Users } from './domain/users.js';
import { KnownUsers, knownUserEvents } from './domain/known-users.js';
import { Endings } from './domain/endings.js';
import { Leases } from './domain/leases.js';
import { Sessions } from './domain/sessions.js';
import { Sweeper } from './domain/sweeper.js';
import { LiveView, liveViewEvents } from './domain/live-view.js';
import { loadLiveView } from './domain/live-view-load.js';
import { recordUserOnUserRegistered } from './events/record-user-on-user-registered.js';
import { endSessionsOnUserDeleted } from './events/end-sessions-on-user-deleted.js';
import { recordBoxOnTunnelBoxHeartbeat } from './events/record-box-on-tunnel-box-heartbeat.js';
import { portRoutes } from './routes/port.js';
import { sessionsRoutes } from './routes/sessions.js';
import { internalSnapshotRoutes } from './routes/internal-snapshot.js';

export interface SessionsOptions {
  mongoUrl: string;
  amqpUrl: string;
  exchange?: string;
  deadLetterExchange?: string;
  /** The queue this service's replicas share. */
  queue?: string;
  jwtPublicKey: string;
  /** The credential tunnel boxes present to read the lease snapshot. */
  serviceToken?: string;
  /**
   * How long after its last heartbeat a tunnel box is out of rotation for new leases; default 15 s, three
   * of tunnel-sync's default heartbeat intervals. Boxes are not configured here: they announce themselves.
   */
  boxSilenceMs?: number;
  /** Live leases one user may hold at once; default 5. */
  maxLeasesPerUser?: number;
  /** How long a lease waits for its session to be declared; default 2 minutes. */
  leaseTtlMs?: number;
  /** How long a session lives after its last heartbeat; default 90 s. */
  sessionTtlMs?: number;
  /** How often each replica ends what has expired; default 5 s. */
  sweepIntervalMs?: number;
  outboxIntervalMs?: number;
}

/** The sessions service: port leases on the tunnel boxes, and pairing sessions. It never listens by itself. */
const sessionsApp: FastifyPluginAsync<SessionsOptions> = async (app, options) => {
  await app.register(healthPlugin, { service: 'sessions' });
  await app.register(databasePlugin, { url: options.mongoUrl });
  await app.register(busPlugin, { url: options.amqpUrl, producer: 'sessions', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  await app.register(outboxPlugin, { models: (db) => [leaseModel(db), sessionModel(db), endingModel(db)], intervalMs: options.outboxIntervalMs });
  await app.register(authPlugin, { publicKey: options.jwtPublicKey });
  await app.register(serviceAuthPlugin, { serviceToken: options.serviceToken ?? '' });

  const models = {
    leases: leaseModel(app.db), sessions: sessionModel(app.db), endings: endingModel(app.db),
    portClaims: portClaimModel(app.db), slots: leaseSlotModel(app.db), moves: sessionMoveModel(app.db),
    users: userModel(app.db), usernames: usernameModel(app.db), boxes: boxModel(app.db),
  };
  await Promise.all(Object.values(models).map((model) => model.init()));
  const knownUsers = new KnownUsers();
  const users = new Users(models.users, models.usernames, knownUsers);
  const added = await users.backfillUsernames();
  if (added > 0) app.log.info({ added }, 'recorded the usernames of accounts known from before');
  const view = new LiveView();
  const boxes = new TunnelBoxes(models.boxes, { silenceMs: options.boxSilenceMs ?? 15_000 });
  const endings = new Endings(models.endings, app.outbox);
  const leases = new Leases({
    leases: models.leases, portClaims: models.portClaims, slots: models.slots, endings, boxes, users, view, outbox: app.outbox,
    maxLeasesPerUser: options.maxLeasesPerUser ?? 5, leaseTtlMs: options.leaseTtlMs ?? 120_000,
  });
  const sessions = new Sessions({
    sessions: models.sessions, moves: models.moves, leases, endings, users, view, outbox: app.outbox, sessionTtlMs: options.sessionTtlMs ?? 90_000,
  });
  await app.register(replicaViewPlugin, {
    queue: options.queue ?? 'sessions',
    events: [...liveViewEvents, TunnelBoxHeartbeat, ...knownUserEvents],
    load: async () => {
      await Promise.all([loadLiveView(view, models), boxes.load()]);
    },
    apply: (envelope) => {
      if (envelope.type === TunnelBoxHeartbeat.type) boxes.remember(envelope.data as Heartbeat);
      else if (knownUserEvents.some((event) => event.type === envelope.type)) knownUsers.apply(envelope);
      else view.apply(envelope);
    },
  });
  app.metrics.gauge('port_leases_live', 'Ports leased and not yet released', () => models.portClaims.estimatedDocumentCount());
  app.metrics.gauge('tunnel_boxes_in_rotation', 'Tunnel boxes that take new leases', () => boxes.forLease().then((found) => found.length, () => 0));

  await app.register(subscriptionsPlugin, {
    queue: options.queue ?? 'sessions',
    subscriptions: [
      on(UserRegistered, recordUserOnUserRegistered(users)),
      on(UserUpdated, recordUserOnUserRegistered(users)),
      on(UserDeleted, endSessionsOnUserDeleted(sessions)),
      on(TunnelBoxHeartbeat, recordBoxOnTunnelBoxHeartbeat(boxes)),
    ],
  });
  const sweeper = new Sweeper({ sessions, leases, endings, view, intervalMs: options.sweepIntervalMs ?? 5000, logger: app.log });
  sweeper.start();
  // Before the database closes: onClose hooks run in reverse order of registration.
  app.addHook('onClose', () => sweeper.stop());

  await app.register(portRoutes, { leases, sessions });
  await app.register(sessionsRoutes, { sessions });
  await app.register(internalSnapshotRoutes, { view });
};

export default fp(sessionsApp, { name: 'sessions-app' });

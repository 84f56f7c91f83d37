import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import { authPlugin, busPlugin, databasePlugin, healthPlugin, on, outboxPlugin, replicaViewPlugin, serviceAuthPlugin, subscriptionsPlugin } from '@tmuxme/service-kit';
import { keyModel } from './model/key.js';
import { fingerprintClaimModel, keySlotModel } from './model/key-claims.js';
import { userModel } from './model/user.js';
import { KeyClaims } from './domain/key-claims.js';
import { Keys } from './domain/keys.js';
import { Users } from './domain/users.js';
import { KeyView, keyViewEvents, type KeyViewEvent } from './domain/key-view.js';
import { loadKeyView } from './domain/key-view-load.js';
import { recordUserOnUserRegistered } from './events/record-user-on-user-registered.js';
import { removeKeysOnUserDeleted } from './events/remove-keys-on-user-deleted.js';
import { userKeysRoutes } from './routes/user-keys.js';
import { publicKeysRoutes } from './routes/public-keys.js';
import { internalSnapshotRoutes } from './routes/internal-snapshot.js';

export interface KeysOptions {
  mongoUrl: string;
  amqpUrl: string;
  exchange?: string;
  deadLetterExchange?: string;
  /** The queue this service's replicas share. */
  queue?: string;
  jwtPublicKey: string;
  /** The credential tunnel boxes present to read the key snapshot. */
  serviceToken?: string;
  maxKeysPerUser?: number;
  outboxIntervalMs?: number;
}

/** Far longer than an add takes from claiming to writing its key, or a removal from its write to releasing. */
const staleClaimMs = 60_000;

/** The keys service: SSH public keys, strictly validated, and the public keys API. */
const keysApp: FastifyPluginAsync<KeysOptions> = async (app, options) => {
  const queue = options.queue ?? 'keys';
  await app.register(healthPlugin, { service: 'keys' });
  await app.register(databasePlugin, { url: options.mongoUrl });
  await app.register(busPlugin, { url: options.amqpUrl, producer: 'keys', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  await app.register(outboxPlugin, { models: (db) => [keyModel(db)], intervalMs: options.outboxIntervalMs });
  await app.register(authPlugin, { publicKey: options.jwtPublicKey });
  await app.register(serviceAuthPlugin, { serviceToken: options.serviceToken ?? '' });

  const models = { keys: keyModel(app.db), users: userModel(app.db), slots: keySlotModel(app.db), fingerprints: fingerprintClaimModel(app.db) };
  await Promise.all(Object.values(models).map((model) => model.init()));
  const view = new KeyView();
  await app.register(replicaViewPlugin, { queue, events: keyViewEvents, load: () => loadKeyView(view, models), apply: (envelope) => view.apply(envelope as KeyViewEvent) });

  const maxKeysPerUser = options.maxKeysPerUser ?? 50;
  const claims = new KeyClaims({ ...models, maxKeysPerUser, staleAfterMs: staleClaimMs });
  const backfilled = await claims.backfill(view.page(undefined, Number.MAX_SAFE_INTEGER).items);
  if (backfilled.slots + backfilled.fingerprints > 0) app.log.info(backfilled, 'claimed slots and fingerprints for keys that had none');
  if (backfilled.overCap.length > 0) app.log.warn({ keyIds: backfilled.overCap }, 'keys beyond their account\'s cap have no slot: the user does not see them listed');
  const users = new Users(models.users);
  const keys = new Keys({ keys: models.keys, users, claims, view: view, maxKeysPerUser, outbox: app.outbox });

  await app.register(subscriptionsPlugin, {
    queue,
    subscriptions: [
      on(UserRegistered, recordUserOnUserRegistered(users)),
      on(UserUpdated, recordUserOnUserRegistered(users)),
      on(UserDeleted, removeKeysOnUserDeleted(keys)),
    ],
  });
  await app.register(userKeysRoutes, { keys });
  await app.register(publicKeysRoutes, { view: view });
  await app.register(internalSnapshotRoutes, { view: view });
};

export default fp(keysApp, { name: 'keys-app' });

import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { UserDeleted, UserRegistered, UserUpdated } from '@tmuxme/events';
import { authPlugin, busPlugin, databasePlugin, healthPlugin, on, outboxPlugin, serviceAuthPlugin, subscriptionsPlugin } from '@tmuxme/service-kit';
import { keyModel } from './model/key.js';
import { userModel } from './model/user.js';
import { Keys } from './domain/keys.js';
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
  /** How long `keys.json` answers may come from memory; default 2 s. */
  publicKeysTtlMs?: number;
  outboxIntervalMs?: number;
}

/** The keys service: SSH public keys, strictly validated, and the public keys API. */
const keysApp: FastifyPluginAsync<KeysOptions> = async (app, options) => {
  await app.register(healthPlugin, { service: 'keys' });
  await app.register(databasePlugin, { url: options.mongoUrl });
  await app.register(busPlugin, { url: options.amqpUrl, producer: 'keys', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  await app.register(outboxPlugin, { models: (db) => [keyModel(db)], intervalMs: options.outboxIntervalMs });
  await app.register(authPlugin, { publicKey: options.jwtPublicKey });
  await app.register(serviceAuthPlugin, { serviceToken: options.serviceToken ?? '' });

  const keysCollection = keyModel(app.db);
  const users = userModel(app.db);
  await Promise.all([keysCollection.init(), users.init()]);
  const keys = new Keys({
    keys: keysCollection, users, maxKeysPerUser: options.maxKeysPerUser ?? 50, outbox: app.outbox, publicKeysTtlMs: options.publicKeysTtlMs ?? 2000,
  });

  await app.register(subscriptionsPlugin, {
    queue: options.queue ?? 'keys',
    subscriptions: [
      on(UserRegistered, recordUserOnUserRegistered(keys)),
      on(UserUpdated, recordUserOnUserRegistered(keys)),
      on(UserDeleted, removeKeysOnUserDeleted(keys)),
    ],
  });
  await app.register(userKeysRoutes, { keys });
  await app.register(publicKeysRoutes, { keys });
  await app.register(internalSnapshotRoutes, { keys });
};

export default fp(keysApp, { name: 'keys-app' });

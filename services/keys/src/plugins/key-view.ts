import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import { startReplicaView } from '@tmuxme/bus';
import { keyLine } from '../domain/keys.js';
import { KeyView, keyViewEvents } from '../domain/key-view.js';
import { keyModel } from '../model/key.js';
import { userModel } from '../model/user.js';

declare module 'fastify' {
  interface FastifyInstance {
    keyView: KeyView;
  }
}

export interface KeyViewOptions {
  /** The queue the service's replicas share; this replica's own queue is named after it. */
  queue: string;
}

/**
 * This replica's view of every live key and account: loaded from the database once at start, then kept
 * current by every replica's events through a queue of its own.
 */
export const keyViewPlugin = fp<KeyViewOptions>(async (app, { queue }) => {
  const view = new KeyView();
  const consumer = await startReplicaView({
    bus: app.bus,
    queue: `${queue}.view.${randomUUID().slice(0, 8)}`,
    events: keyViewEvents,
    // Whole collections, once: start-up is no request path. Removed keys are read too, so that a late
    // KeyAdded cannot bring one back.
    load: async () => {
      for await (const user of userModel(app.db).find({}, { username: 1, deleted: 1 }).lean().cursor({ batchSize: 5000 })) {
        if (user.deleted) view.deleteUser(user._id);
        else view.recordUser(user._id, user.username);
      }
      const keys = keyModel(app.db).find({}, { userId: 1, username: 1, type: 1, blob: 1, fingerprint: 1, deletedAt: 1 }).lean().cursor({ batchSize: 5000 });
      for await (const key of keys) {
        const keyId = key._id.toHexString();
        if (key.deletedAt) view.removeKey(keyId);
        else view.addKey({ keyId, userId: key.userId, username: key.username, type: key.type, key: keyLine(key), fingerprint: key.fingerprint });
      }
    },
    apply: (envelope) => view.apply(envelope),
  });
  app.decorate('keyView', view);
  app.addHook('onClose', async () => {
    await consumer.cancel();
  });
}, { name: 'key-view', dependencies: ['database', 'bus'] });

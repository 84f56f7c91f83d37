import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyAdded, KeyRemoved } from '@tmuxme/events';
import { testAmqpUrl } from '@tmuxme/testing';
import { Bus, startReplicaView } from '../src/index.js';
import { BrokerAdmin, keyAdded, waitUntil } from './helpers.js';

describe('startReplicaView', () => {
  let admin: BrokerAdmin;
  let bus: Bus;

  beforeAll(async () => {
    admin = await BrokerAdmin.open();
    bus = await Bus.connect({ url: testAmqpUrl(), producer: 'keys', ...admin.names });
  });

  afterAll(async () => {
    await bus.close();
    await admin.cleanUp();
  });

  it('applies what arrived while the state was loading after the load, in order, and later events at once', async () => {
    const seen: string[] = [];
    const first = keyAdded('alice');
    const second = bus.envelope(KeyRemoved, { keyId: 'k1', userId: 'u1', username: 'alice', fingerprint: 'SHA256:x' });
    const view = await startReplicaView({
      bus, queue: admin.queue('view'), events: [KeyAdded, KeyRemoved],
      load: async () => {
        await bus.publish(first);
        await bus.publish(second);
        // Long enough for both deliveries to reach the handler before the load ends.
        await new Promise((resolve) => setTimeout(resolve, 300));
        seen.push('loaded');
      },
      apply: (envelope) => { seen.push(envelope.type); },
    });
    expect(seen).toEqual(['loaded', 'KeyAdded', 'KeyRemoved']);

    await bus.publish(keyAdded('bob'));
    await waitUntil(() => seen.length === 4, 5000, 'the later event');
    expect(seen[3]).toBe('KeyAdded');
    await view.cancel();
  });

  it('gives up its queue when the load fails', async () => {
    const queue = admin.queue('view-failing');
    await expect(startReplicaView({
      bus, queue, events: [KeyAdded], load: async () => { throw new Error('database down'); }, apply: () => {},
    })).rejects.toThrow('database down');
    await bus.publish(keyAdded('carol'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await admin.messageCount(queue)).toBe(1);
  });
});

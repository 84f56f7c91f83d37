import type { Envelope, EventData, UserDeleted } from '@tmuxme/events';
import type { Keys } from '../domain/keys.js';

export const removeKeysOnUserDeleted = (keys: Keys) =>
  async (envelope: Envelope<EventData<typeof UserDeleted>>) => keys.removeAccount(envelope);

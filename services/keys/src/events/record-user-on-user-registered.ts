import type { Envelope, EventData, UserRegistered, UserUpdated } from '@tmuxme/events';
import type { Keys } from '../domain/keys.js';

export const recordUserOnUserRegistered = (keys: Keys) =>
  async ({ data }: Envelope<EventData<typeof UserRegistered | typeof UserUpdated>>) => keys.recordUser(data.userId, data.username);

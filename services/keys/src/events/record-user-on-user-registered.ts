import type { Envelope, EventData, UserRegistered, UserUpdated } from '@tmuxme/events';
import type { Users } from '../domain/users.js';

export const recordUserOnUserRegistered = (users: Users) =>
  async ({ data }: Envelope<EventData<typeof UserRegistered | typeof UserUpdated>>) => users.record(data.userId, data.username);

import type { Envelope, EventData, UserDeleted } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const forgetUserOnUserDeleted = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof UserDeleted>>) => projection.deleteUser(data);

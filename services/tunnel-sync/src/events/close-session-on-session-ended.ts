import type { Envelope, EventData, SessionEnded } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const closeSessionOnSessionEnded = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof SessionEnded>>) => projection.endSession(data);

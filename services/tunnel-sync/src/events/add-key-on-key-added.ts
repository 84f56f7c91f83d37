import type { Envelope, EventData, KeyAdded } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const addKeyOnKeyAdded = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof KeyAdded>>) => projection.addKey(data);

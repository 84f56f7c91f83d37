import type { Envelope, EventData, KeyRemoved } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const removeKeyOnKeyRemoved = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof KeyRemoved>>) => projection.removeKey(data);

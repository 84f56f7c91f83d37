import type { Envelope, EventData, SessionMoved } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const admitGuestsOnSessionMoved = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof SessionMoved>>) => projection.moveSession(data);

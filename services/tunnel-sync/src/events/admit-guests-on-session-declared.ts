import type { Envelope, EventData, SessionDeclared } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const admitGuestsOnSessionDeclared = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof SessionDeclared>>) => projection.declareSession(data);

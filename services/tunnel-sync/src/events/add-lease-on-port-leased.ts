import type { Envelope, EventData, PortLeased } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const addLeaseOnPortLeased = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof PortLeased>>) => projection.lease(data);

import type { Envelope, EventData, PortReleased } from '@tmuxme/events';
import type { Projection } from '../domain/projection.js';

export const releaseLeaseOnPortReleased = (projection: Projection) =>
  async ({ data }: Envelope<EventData<typeof PortReleased>>) => projection.release(data);

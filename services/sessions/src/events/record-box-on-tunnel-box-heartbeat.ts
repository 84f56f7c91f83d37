import type { HandlerContext } from '@tmuxme/bus';
import type { Envelope, EventData, TunnelBoxHeartbeat } from '@tmuxme/events';
import type { TunnelBoxes } from '../domain/tunnel-boxes.js';

export const recordBoxOnTunnelBoxHeartbeat = (boxes: TunnelBoxes) =>
  async ({ data }: Envelope<EventData<typeof TunnelBoxHeartbeat>>, { log }: HandlerContext) => {
    const flaw = await boxes.record(data);
    // Retrying cannot mend a box's settings; its operator reads this line.
    if (flaw) log.warn({ boxId: data.boxId }, `tunnel box ${data.boxId} left out of rotation: ${flaw}`);
  };

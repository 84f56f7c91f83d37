import { randomInt } from 'node:crypto';
import type mongoose from 'mongoose';
import { portRangeFlaw, type EventData, type TunnelBoxHeartbeat } from '@tmuxme/events';
import { HttpError } from '@tmuxme/service-kit';
import type { BoxDocument } from '../model/box.js';
import { parseHostKey } from './host-key.js';

export type Heartbeat = EventData<typeof TunnelBoxHeartbeat>;

/** A tunnel box as sessions knows it from its heartbeats. */
export interface TunnelBox {
  boxId: string;
  /** The name or address guests reach the box at; it goes into join commands. */
  tunnelHost: string;
  /** The box's sshd port, where hosts open their tunnels and guests take the jump path. */
  tunnelPort: number;
  /** `type base64`: the box's host key, handed out with each lease so the CLI can pin it. */
  hostKeyLine: string;
  ports: { first: number; last: number };
  liveLeases: number;
  draining: boolean;
  /** When its last heartbeat arrived. */
  seenAt: Date;
}

export interface TunnelBoxesOptions {
  /** A box whose heartbeats stopped this long ago gets no new lease. */
  silenceMs: number;
}

/** Boxes come back and leases end within about this long. */
export const retryAfterSeconds = 30;

/** The box's host key as a line for pinning, or why a heartbeat cannot be taken, in words for the log. */
function checkedHostKey(heartbeat: Heartbeat): { line: string } | { flaw: string } {
  const rangeFlaw = portRangeFlaw(heartbeat);
  if (rangeFlaw) return { flaw: rangeFlaw };
  try {
    return { line: parseHostKey(heartbeat.hostKey).line };
  } catch (error) {
    return { flaw: `its host key is not valid: ${(error as Error).message}` };
  }
}

const fromDocument = (box: BoxDocument): TunnelBox => ({
  boxId: box._id, tunnelHost: box.tunnelHost, tunnelPort: box.tunnelPort, hostKeyLine: box.hostKey,
  ports: { first: box.portRange.from, last: box.portRange.to }, liveLeases: box.liveLeases, draining: box.draining, seenAt: box.seenAt,
});

/**
 * The tunnel boxes, projected from their heartbeats (TunnelBoxHeartbeat): which are in rotation, and
 * which is least loaded. Every replica hears every heartbeat and keeps the boxes in memory; one replica
 * records each heartbeat in the database too, so a replica that starts knows the boxes at once.
 */
export class TunnelBoxes {
  private readonly boxes = new Map<string, TunnelBox & { at: Date }>();
  /** Leases this replica placed on a box since the heartbeat it last read, which that count lacks. */
  private readonly placedSince = new Map<string, { seenAt: number; count: number }>();

  constructor(private readonly model: mongoose.Model<BoxDocument>, private readonly options: TunnelBoxesOptions) {}

  /** Keeps the newest heartbeat of each box in the database; returns why one was ignored, if it was. */
  async record(heartbeat: Heartbeat): Promise<string | undefined> {
    const box = this.remember(heartbeat);
    if (typeof box === 'string') return box;
    const kept = await this.model.findById(heartbeat.boxId, { at: 1 }).lean();
    // Two replicas recording two heartbeats at once may keep the older for one interval; memory is right.
    if (kept && kept.at >= box.at) return undefined;
    const { tunnelHost, tunnelPort, hostKeyLine: hostKey, ports, liveLeases, draining, at, seenAt } = box;
    await this.model.updateOne({ _id: heartbeat.boxId }, {
      $set: { tunnelHost, tunnelPort, hostKey, portRange: { from: ports.first, to: ports.last }, liveLeases, draining, at, seenAt },
    }, { upsert: true });
    return undefined;
  }

  /** Keeps the newest heartbeat of each box in memory; returns why one was ignored, if it was. */
  remember(heartbeat: Heartbeat): (TunnelBox & { at: Date }) | string {
    const hostKey = checkedHostKey(heartbeat);
    if ('flaw' in hostKey) return hostKey.flaw;
    const at = new Date(heartbeat.at);
    const known = this.boxes.get(heartbeat.boxId);
    if (known && known.at >= at) return known;
    const box = {
      boxId: heartbeat.boxId, tunnelHost: heartbeat.tunnelHost, tunnelPort: heartbeat.tunnelPort, hostKeyLine: hostKey.line,
      ports: { first: heartbeat.portRange.from, last: heartbeat.portRange.to }, liveLeases: heartbeat.liveLeases, draining: heartbeat.draining, at, seenAt: new Date(),
    };
    this.boxes.set(box.boxId, box);
    return box;
  }

  /** The boxes as recorded, at start: every box announces itself again within seconds anyway. */
  async load(): Promise<void> {
    for (const found of await this.model.find().lean()) {
      const known = this.boxes.get(found._id);
      if (!known || known.at < found.at) this.boxes.set(found._id, { ...fromDocument(found), at: found.at });
    }
  }


  /**
   * The boxes that take new leases, least loaded first (ties in random order): heard from lately, not
   * draining, and not `avoid` (a box the host just lost); of those, the ones whose last heartbeat left ports free.
   */
  async forLease(avoid?: string): Promise<TunnelBox[]> {
    const silentSince = Date.now() - this.options.silenceMs;
    const inRotation = [...this.boxes.values()].filter((box) => box.seenAt.getTime() > silentSince && !box.draining && box.boxId !== avoid);
    if (inRotation.length === 0) {
      const elsewhere = avoid === undefined ? '' : ` other than ${avoid}`;
      throw new HttpError(503, 'NO_TUNNEL_BOX', `No tunnel box${elsewhere} is taking new sessions right now; try again in a little while.`, { retryAfter: retryAfterSeconds });
    }
    return inRotation.filter((box) => box.liveLeases < box.ports.last - box.ports.first + 1)
      .map((box) => ({ box, load: this.loadOf(box), tie: randomInt(1 << 30) }))
      .sort((a, b) => a.load - b.load || a.tie - b.tie)
      .map(({ box }) => box);
  }

  /** Counts a lease placed on the box until its next heartbeat includes it. */
  placed(box: TunnelBox): void {
    const since = this.placedSince.get(box.boxId);
    const seenAt = box.seenAt.getTime();
    this.placedSince.set(box.boxId, { seenAt, count: since?.seenAt === seenAt ? since.count + 1 : 1 });
  }

  private loadOf(box: TunnelBox): number {
    const since = this.placedSince.get(box.boxId);
    return box.liveLeases + (since?.seenAt === box.seenAt.getTime() ? since.count : 0);
  }
}

export function randomPort({ ports }: TunnelBox): number {
  return ports.first + randomInt(ports.last - ports.first + 1);
}

import { randomInt } from 'node:crypto';
import type mongoose from 'mongoose';
import { portRangeFlaw, type EventData, type TunnelBoxHeartbeat } from '@tmuxme/events';
import { HttpError } from '@tmuxme/service-kit';
import type { BoxDocument } from '../model/box.js';
import { isDuplicateKey } from './claims.js';
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
  /** How long a replica places leases from its last read of the boxes before reading them again. */
  cacheMs?: number;
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
 * which is least loaded. Any replica may record a heartbeat (they share one queue); every replica reads
 * the boxes back from the database, at most every `cacheMs`.
 */
export class TunnelBoxes {
  private cache: { boxes: TunnelBox[]; readAt: number } | undefined;
  private reading: Promise<TunnelBox[]> | undefined;
  /** Leases this replica placed on a box since the heartbeat it last read, which that count lacks. */
  private readonly placedSince = new Map<string, { seenAt: number; count: number }>();

  constructor(private readonly model: mongoose.Model<BoxDocument>, private readonly options: TunnelBoxesOptions) {}

  /** Keeps the newest heartbeat of each box; returns why one was ignored, if it was. */
  async record(heartbeat: Heartbeat): Promise<string | undefined> {
    const hostKey = checkedHostKey(heartbeat);
    if ('flaw' in hostKey) return hostKey.flaw;
    const at = new Date(heartbeat.at);
    const box = {
      tunnelHost: heartbeat.tunnelHost, tunnelPort: heartbeat.tunnelPort, hostKey: hostKey.line,
      portRange: heartbeat.portRange, liveLeases: heartbeat.liveLeases, draining: heartbeat.draining, at, seenAt: new Date(),
    };
    const { matchedCount } = await this.model.updateOne({ _id: heartbeat.boxId, at: { $lt: at } }, { $set: box });
    if (matchedCount === 0) {
      // A new box, or a heartbeat older than the one kept (then the insert finds the id taken, which is fine).
      await this.model.create({ _id: heartbeat.boxId, ...box }).catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      });
    }
    this.cache = undefined;
    return undefined;
  }

  /** Every box heard from, in rotation or not. */
  private async known(): Promise<TunnelBox[]> {
    const { cacheMs = 1000 } = this.options;
    if (this.cache && Date.now() - this.cache.readAt < cacheMs) return this.cache.boxes;
    this.reading ??= this.model.find().lean().then((found) => {
      const boxes = found.map(fromDocument);
      this.cache = { boxes, readAt: Date.now() };
      return boxes;
    }).finally(() => { this.reading = undefined; });
    return this.reading;
  }

  /**
   * The boxes that take new leases, least loaded first (ties in random order): heard from lately, not
   * draining, and not `avoid` (a box the host just lost); of those, the ones whose last heartbeat left ports free.
   */
  async forLease(avoid?: string): Promise<TunnelBox[]> {
    const silentSince = Date.now() - this.options.silenceMs;
    const inRotation = (await this.known()).filter((box) => box.seenAt.getTime() > silentSince && !box.draining && box.boxId !== avoid);
    if (inRotation.length === 0) {
      const elsewhere = avoid === undefined ? '' : ` other than ${avoid}`;
      throw new HttpError(503, 'NO_TUNNEL_BOX', `No tunnel box${elsewhere} is taking new sessions right now; try again in a little while.`, { retryAfter: retryAfterSeconds });
    }
    return inRotation.filter((box) => box.liveLeases < box.ports.last - box.ports.first + 1)
      .map((box) => ({ box, load: this.load(box), tie: randomInt(1 << 30) }))
      .sort((a, b) => a.load - b.load || a.tie - b.tie)
      .map(({ box }) => box);
  }

  /** Counts a lease placed on the box until its next heartbeat includes it. */
  placed(box: TunnelBox): void {
    const since = this.placedSince.get(box.boxId);
    const seenAt = box.seenAt.getTime();
    this.placedSince.set(box.boxId, { seenAt, count: since?.seenAt === seenAt ? since.count + 1 : 1 });
  }

  private load(box: TunnelBox): number {
    const since = this.placedSince.get(box.boxId);
    return box.liveLeases + (since?.seenAt === box.seenAt.getTime() ? since.count : 0);
  }
}

export function randomPort({ ports }: TunnelBox): number {
  return ports.first + randomInt(ports.last - ports.first + 1);
}

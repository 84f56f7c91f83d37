import type { Bus } from '@tmuxme/bus';
import { TunnelBoxHeartbeat, type EventData } from '@tmuxme/events';
import type { FastifyBaseLogger } from 'fastify';
import { sshdAnswers } from './sshd-probe.js';

/** What the box tells sessions about itself, but for what changes from one heartbeat to the next. */
export type BoxAnnouncement = Omit<EventData<typeof TunnelBoxHeartbeat>, 'liveLeases' | 'at'>;

export interface BoxHeartbeatOptions {
  bus: Bus;
  box: BoxAnnouncement;
  intervalMs: number;
  /** Where the box's sshd listens, as seen from here; without it, the box is taken to be up. */
  sshd?: { host: string; port: number };
  liveLeases: () => number;
  logger: FastifyBaseLogger;
}

/**
 * Says every `intervalMs` that this box takes new leases (or, draining, that it does not), as long as its
 * sshd answers: sessions places leases only on boxes it heard from lately, so a box whose sshd or
 * tunnel-sync is down drops out of rotation by itself. Published straight to the broker, not through an
 * outbox: a heartbeat that cannot go out is replaced by the next one.
 */
export class BoxHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  /** What the last beat could not do, so a lasting problem is logged once. */
  private trouble: string | undefined;

  constructor(private readonly options: BoxHeartbeatOptions) {}

  start(): void {
    const beat = () => { this.beating ??= this.beat().finally(() => { this.beating = undefined; }); };
    beat();
    this.timer = setInterval(beat, this.options.intervalMs);
  }

  /** Stops, and tells sessions that this box takes no more leases: nobody would admit their keys now. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.publish(true).catch(() => {});
  }

  private async beat(): Promise<void> {
    const { sshd, logger } = this.options;
    try {
      if (sshd && !await sshdAnswers(sshd)) throw new Error(`the box's sshd does not answer on ${sshd.host}:${sshd.port}`);
      await this.publish(this.options.box.draining);
      if (this.trouble) logger.info({}, 'heartbeats go out again: the box is back in rotation');
      this.trouble = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (this.trouble !== message) logger.warn({ err: error }, `no heartbeat (${message}): the box drops out of rotation until it is fixed`);
      this.trouble = message;
    }
  }

  private publish(draining: boolean): Promise<void> {
    const { bus, box, liveLeases } = this.options;
    return bus.publish(bus.envelope(TunnelBoxHeartbeat, { ...box, draining, liveLeases: liveLeases(), at: new Date().toISOString() }));
  }
}

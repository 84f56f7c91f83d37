const ignore = () => {};

/**
 * Runs a task at once when it is idle. Calls made while it runs share one more run that starts right
 * after, so a burst costs two runs, a lone call costs no waiting, and no call is answered by a run that
 * started before it was made.
 */
export class Coalescer<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(private readonly task: () => Promise<T>) {}

  run(): Promise<T> {
    if (!this.running) return this.start();
    this.queued ??= this.running.then(ignore, ignore).then(() => {
      this.queued = undefined;
      return this.start();
    });
    return this.queued;
  }

  /** Settles once nothing runs or waits to run. */
  async idle(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)!.then(ignore, ignore);
  }

  private start(): Promise<T> {
    const run: Promise<T> = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}

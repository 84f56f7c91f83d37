/**
 * The host's requests that write the session's document on the server (heartbeat, move, end), one at a time:
 * the server's store keeps only the last of two updates made at once, so a heartbeat beside a move could put
 * the session back on the box it just left, and an end beside a move could bring the session back to life.
 */
export class SessionRequests {
  private last: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Sends `request` once every request before it has settled. */
  run<T>(request: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const result = this.last.then(request).finally(() => { this.waiting -= 1; });
    this.last = result.catch(() => {});
    return result;
  }

  /** Sends `request` only if no other is in flight or waiting (undefined if not): a heartbeat left out is made up by the next. */
  runIfIdle<T>(request: () => Promise<T>): Promise<T> | undefined {
    return this.waiting === 0 ? this.run(request) : undefined;
  }
}

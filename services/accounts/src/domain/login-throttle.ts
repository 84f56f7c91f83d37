/** One attempt counted by a LoginThrottle while its outcome is not known yet. */
export interface Attempt {
  /** The attempt succeeded (or never got to check the secret): it stops counting. */
  takeBack(): void;
}

/**
 * Fixed-window counters of FAILED attempts (a wrong password, an invalid API
 * token), per client address or per account, that slow down guessing.
 * Successes are not counted, so an office of many people behind one NAT
 * address is never refused because of its own successful logins.
 *
 * An attempt counts from the moment it starts (`attempt`, called right after
 * `retryAfter` with no `await` between) and is taken back once it turns out
 * to have succeeded. Counting only after bcrypt has answered would let a
 * burst of concurrent guesses all pass the check before any of them counted.
 *
 * The counters live in each replica's memory: with N replicas an attacker
 * gets at most N times the budget, still far too few guesses against bcrypt
 * (or a 238-bit API token) to matter.
 */
export class LoginThrottle {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly limit: number, private readonly windowMs: number) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfter(key: string, now = Date.now()): number {
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now || window.count < this.limit) return 0;
    return Math.ceil((window.resetAt - now) / 1000);
  }

  /** Counts one attempt against `key` as a failure until it is taken back. */
  attempt(key: string, now = Date.now()): Attempt {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
      this.sweep(now);
    }
    window.count += 1;
    const counted = window;
    let open = true;
    return {
      takeBack: () => {
        // Only once, and only from the window it was counted in (not one that replaced it since).
        if (!open || this.windows.get(key) !== counted) return;
        open = false;
        counted.count -= 1;
        if (counted.count <= 0) this.windows.delete(key);
      },
    };
  }

  /** Forgets every failure of `key`. */
  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    if (this.windows.size < 10_000) return;
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}

/**
 * The public keys API is read far more than keys change (every pairing
 * session reads its guests' keys), and a database round trip per read costs
 * most of its throughput. Answers are kept for a short time and dropped at
 * once when this replica changes the user's keys; another replica's change
 * shows here within `ttlMs`.
 */
export class PublicKeysCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly ttlMs: number, private readonly maxEntries = 10_000) {}

  async get(username: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(username);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = await load();
    if (this.ttlMs > 0) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(username, { value, expiresAt: now + this.ttlMs });
    }
    return value;
  }

  invalidate(username: string): void {
    this.entries.delete(username);
  }
}

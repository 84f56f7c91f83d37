import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { Snapshot } from './projection-state.js';

export interface SnapshotSourceOptions {
  keysUrl: string;
  sessionsUrl: string;
  /** Presented as `Authorization: Service <token>`. */
  serviceToken: string;
  tunnelHost: string;
}

const Id = Type.String({ minLength: 1 });
const KeyItem = Type.Object({ keyId: Id, userId: Id, key: Type.String() });
const LeaseItem = Type.Object({ leaseId: Id, userId: Id, tunnelHost: Type.String(), port: Type.Integer() });

// The keys snapshot's largest page; each page costs its source a query, so fewer is faster.
const pageSize = 10_000;

export const sameHost = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Reads every live key (from keys) and this box's live leases (from sessions) through their internal
 * snapshot routes. Any failure fails the whole read: a partial snapshot would tombstone what it missed.
 */
export class SnapshotSource {
  constructor(private readonly options: SnapshotSourceOptions) {}

  async read(signal?: AbortSignal): Promise<Snapshot> {
    const { keysUrl, sessionsUrl, tunnelHost } = this.options;
    const [keys, leases] = await Promise.all([
      this.all(`${keysUrl.replace(/\/$/, '')}/internal/v1/snapshot/keys`, {}, 'keys', KeyItem, signal),
      this.all(`${sessionsUrl.replace(/\/$/, '')}/internal/v1/snapshot/leases`, { tunnelHost }, 'leases', LeaseItem, signal),
    ]);
    return {
      keys: keys.map(({ keyId, userId, key }) => ({ keyId, userId, key })),
      leases: leases.filter((l) => sameHost(l.tunnelHost, tunnelHost)).map(({ leaseId, userId, port }) => ({ leaseId, userId, port })),
    };
  }

  private async all<T extends TSchema>(url: string, query: Record<string, string>, field: string, item: T, signal?: AbortSignal): Promise<Static<T>[]> {
    const schema = Type.Object({ [field]: Type.Array(item), next: Type.Union([Type.String(), Type.Null()]) });
    let items: Static<T>[] = [];
    let after: string | null = null;
    do {
      const params = new URLSearchParams({ ...query, limit: String(pageSize), ...(after ? { after } : {}) });
      const timeout = AbortSignal.timeout(60_000);
      const response = await fetch(`${url}?${params}`, {
        headers: { authorization: `Service ${this.options.serviceToken}` },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!response.ok) throw new Error(`${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      const body: unknown = await response.json();
      if (!Value.Check(schema, body)) throw new Error(`${url} answered something that is not a snapshot page`);
      const found = body as Record<string, Static<T>[]> & { next: string | null };
      items = items.concat(found[field]!);
      after = found.next;
    } while (after);
    return items;
  }
}

import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { Snapshot } from './projection-state.js';

export interface SnapshotSourceOptions {
  keysUrl: string;
  sessionsUrl: string;
  /** Presented as `Authorization: Service <token>`. */
  serviceToken: string;
  boxId: string;
}

const Id = Type.String({ minLength: 1 });
const KeyItem = Type.Object({ keyId: Id, userId: Id, key: Type.String() });
// `private` is optional so a box still converges against a sessions service from before private leases.
const LeaseItem = Type.Object({ leaseId: Id, userId: Id, port: Type.Integer(), private: Type.Optional(Type.Boolean()) });
const SessionItem = Type.Object({ sessionId: Id, hostUserId: Id, port: Type.Integer(), guestUserIds: Type.Array(Id) });

/**
 * Reads every live key (from keys) and this box's live leases and sessions (from sessions) through
 * their internal snapshot routes, a page at a time in id order. Any failure fails the whole read: a
 * partial snapshot would tombstone what it missed.
 */
export class SnapshotSource {
  constructor(private readonly options: SnapshotSourceOptions) {}

  async read(signal?: AbortSignal): Promise<Snapshot> {
    const { keysUrl, sessionsUrl, boxId } = this.options;
    const sessionsBase = `${sessionsUrl.replace(/\/$/, '')}/internal/v1/snapshot`;
    const [keys, leases, sessions] = await Promise.all([
      this.all(`${keysUrl.replace(/\/$/, '')}/internal/v1/snapshot/keys`, {}, KeyItem, signal),
      this.all(`${sessionsBase}/leases`, { boxId }, LeaseItem, signal),
      this.all(`${sessionsBase}/sessions`, { boxId }, SessionItem, signal),
    ]);
    return {
      keys: keys.map(({ keyId, userId, key }) => ({ keyId, userId, key })),
      leases: leases.map(({ leaseId, userId, port, private: isPrivate = false }) => ({ leaseId, userId, port, private: isPrivate })),
      sessions: sessions.map(({ sessionId, hostUserId, port, guestUserIds }) => ({ sessionId, hostUserId, port, guestUserIds })),
    };
  }

  /** Every page of one snapshot: `?after=` the page before's `next`, until `next` is null. */
  private async all<T extends TSchema>(url: string, query: Record<string, string>, item: T, signal?: AbortSignal): Promise<Static<T>[]> {
    const timeout = AbortSignal.timeout(10 * 60_000);
    const items: Static<T>[] = [];
    const Page = Type.Object({ items: Type.Array(item), next: Type.Union([Id, Type.Null()]) });
    let after: string | null = null;
    do {
      const pageUrl = `${url}?${new URLSearchParams({ ...query, limit: String(pageSize), ...(after === null ? {} : { after }) })}`;
      const response = await fetch(pageUrl, {
        headers: { authorization: `Service ${this.options.serviceToken}` },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!response.ok) throw new Error(`${pageUrl} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      const page: unknown = await response.json();
      if (!Value.Check(Page, page)) throw new Error(`${pageUrl} answered something that is not a snapshot page: ${JSON.stringify(page).slice(0, 200)}`);
      // A cursor that does not move on would page forever.
      if (page.next !== null && after !== null && page.next <= after) throw new Error(`${pageUrl} answered a next page that does not move on: ${page.next}`);
      items.push(...page.items);
      after = page.next;
    } while (after !== null);
    return items;
  }
}

/** Items per page: large enough that a box with 100,000 keys asks 20 times. */
const pageSize = 5000;

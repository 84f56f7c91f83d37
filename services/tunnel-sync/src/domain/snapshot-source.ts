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
 * their internal snapshot routes. Any failure fails the whole read: a partial snapshot would tombstone what it missed.
 */
export class SnapshotSource {
  constructor(private readonly options: SnapshotSourceOptions) {}

  async read(signal?: AbortSignal): Promise<Snapshot> {
    const { keysUrl, sessionsUrl, boxId } = this.options;
    const ofBox = `?${new URLSearchParams({ boxId })}`;
    const sessionsBase = `${sessionsUrl.replace(/\/$/, '')}/internal/v1/snapshot`;
    const [keys, leases, sessions] = await Promise.all([
      this.all(`${keysUrl.replace(/\/$/, '')}/internal/v1/snapshot/keys`, KeyItem, signal),
      this.all(`${sessionsBase}/leases${ofBox}`, LeaseItem, signal),
      this.all(`${sessionsBase}/sessions${ofBox}`, SessionItem, signal),
    ]);
    return {
      keys: keys.map(({ keyId, userId, key }) => ({ keyId, userId, key })),
      leases: leases.map(({ leaseId, userId, port, private: isPrivate = false }) => ({ leaseId, userId, port, private: isPrivate })),
      sessions: sessions.map(({ sessionId, hostUserId, port, guestUserIds }) => ({ sessionId, hostUserId, port, guestUserIds })),
    };
  }

  /** One snapshot stream: a JSON line per item, then `{end, count}`; without that last line the read failed. */
  private async all<T extends TSchema>(url: string, item: T, signal?: AbortSignal): Promise<Static<T>[]> {
    const timeout = AbortSignal.timeout(10 * 60_000);
    const response = await fetch(url, {
      headers: { authorization: `Service ${this.options.serviceToken}` },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const items: Static<T>[] = [];
    for await (const line of lines(response.body)) {
      const value: unknown = JSON.parse(line);
      if (Value.Check(item, value)) {
        items.push(value);
      } else if (Value.Check(SnapshotEnd, value) && value.count === items.length) {
        return items;
      } else {
        throw new Error(`${url} sent a line that is not a snapshot item: ${line.slice(0, 200)}`);
      }
    }
    throw new Error(`${url} ended before its last line: the snapshot was cut short`);
  }
}

const SnapshotEnd = Type.Object({ end: Type.Literal(true), count: Type.Integer() });

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body) {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = parts.pop()!;
    yield* parts.filter((part) => part.length > 0);
  }
  if (rest.length > 0) yield rest;
}

import type mongoose from 'mongoose';

/** One filter a service sent to the database, with the command and collection it came in. */
export interface AuditedQuery {
  command: string;
  collection: string;
  filter: Record<string, unknown>;
}

/** A query the store could not answer from the `_id` index, and what its explain said. */
export interface ScanningQuery extends AuditedQuery {
  filterPushdown: unknown;
  plan: string[];
}

/** The test URL with command monitoring on, so `auditQueries` can hear what the service's driver sends. */
export function monitoredMongoUrl(url: string): string {
  const monitored = new URL(url);
  monitored.searchParams.set('monitorCommands', 'true');
  return monitored.toString();
}

// Where each command carries the filters it reads or writes by.
const filtersOf: Record<string, (command: Record<string, unknown>) => unknown[]> = {
  find: (c) => [c.filter ?? {}],
  count: (c) => [c.query ?? {}],
  distinct: (c) => [c.query ?? {}],
  findAndModify: (c) => [c.query ?? {}],
  update: (c) => (c.updates as { q: unknown }[]).map((u) => u.q),
  delete: (c) => (c.deletes as { q: unknown }[]).map((d) => d.q),
  aggregate: (c) => [((c.pipeline as Record<string, unknown>[])[0]?.$match) ?? {}],
};

/**
 * Records every filter the connection's driver sends from now until `stop()`. The connection must have
 * been opened with `monitoredMongoUrl`. Inserts carry no filter and are not recorded.
 */
export function auditQueries(connection: mongoose.Connection, { except = [] }: { except?: string[] } = {}) {
  const queries: AuditedQuery[] = [];
  const client = connection.getClient();
  const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
    const collect = filtersOf[event.commandName];
    if (!collect) return;
    const collection = String(event.command[event.commandName]);
    if (except.includes(collection)) return;
    for (const filter of collect(event.command)) queries.push({ command: event.commandName, collection, filter: filter as Record<string, unknown> });
  };
  client.on('commandStarted', listener);
  return {
    queries,
    stop: () => {
      client.off('commandStarted', listener);
    },
  };
}

/**
 * Asks the store to explain each distinct filter as a find, and returns those it would not answer
 * through the `_id` index: FerretDB v1 reports `filterPushdown: false` for any filter but an exact
 * `_id`, and its query plan names a SCAN where SQLite reads the whole table.
 */
export async function scanningQueries(connection: mongoose.Connection, queries: AuditedQuery[]): Promise<ScanningQuery[]> {
  const seen = new Map<string, AuditedQuery>();
  for (const query of queries) seen.set(JSON.stringify([query.collection, query.filter]), query);
  const scanning: ScanningQuery[] = [];
  for (const query of seen.values()) {
    const explained = await connection.db!.collection(query.collection).find(query.filter).explain() as Record<string, unknown>;
    const plan = ((explained.queryPlanner as { Plan?: string[] } | undefined)?.Plan ?? []).map(String);
    if (explained.filterPushdown !== true || plan.some((line) => /\bSCAN\b/.test(line))) {
      scanning.push({ ...query, filterPushdown: explained.filterPushdown, plan });
    }
  }
  return scanning;
}

/** One line per scanning query, for a test failure that says what to fix. */
export function describeScans(scans: ScanningQuery[]): string {
  return scans.map((s) => `${s.command} on ${s.collection} by ${JSON.stringify(s.filter)} (filterPushdown: ${String(s.filterPushdown)}; plan: ${s.plan.join(' | ') || 'none'})`).join('\n');
}

import { authorizedKeysLine } from '@tmuxme/ssh-keys';

export interface KeyEntry {
  keyId: string;
  userId: string;
  /** `<type> <base64>`, as KeyAdded and the key snapshot carry it. */
  key: string;
}

export interface RenderOptions {
  /** Told about every key left out because it failed validation, on every render. */
  onInvalidKey?: (key: KeyEntry, error: Error) => void;
}

/** One of the box's authorized_keys files: what its lines say apart from the key. */
export interface KeyFileKind {
  /** The first line, a comment, so whoever opens the file knows not to edit it. */
  header: string;
  /** Each line's comment is `<tag>:<userId>:<keyId>`, which tells sshd's log which file let a key in. */
  tag: string;
  /** The option that lets one port through, e.g. `permitlisten="P"`. */
  permit: (port: number) => string;
}

export const tunnelHoldCommand = '/usr/local/bin/tunnel-hold';

/**
 * sshd trusts these files, so every key is parsed again here, where it is written, whatever checked it
 * before: a stored value carrying a newline or options would let its owner add entries of their own.
 * Entries are immutable, so the verdict is remembered per entry object (and per file kind, as the
 * comment differs): a render after one event stays cheap with 100k keys.
 */
const verdicts = new WeakMap<KeyEntry, Map<string, string | Error>>();

function keyPart(entry: KeyEntry, tag: string): string | Error {
  let byTag = verdicts.get(entry);
  if (!byTag) verdicts.set(entry, byTag = new Map());
  let verdict = byTag.get(tag);
  if (verdict === undefined) {
    try {
      const [type = '', blob = '', ...rest] = entry.key.split(' ');
      if (rest.length > 0) throw new Error('the key has more than a type and its data');
      verdict = authorizedKeysLine({ type, blob }, `${tag}:${entry.userId}:${entry.keyId}`);
    } catch (error) {
      verdict = error as Error;
    }
    byTag.set(tag, verdict);
  }
  return verdict;
}

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The ports each user is granted, leaving out any that sshd would not take. */
export function portsByUser(grants: Iterable<{ userId: string; port: number }>): Map<string, Set<number>> {
  const ports = new Map<string, Set<number>>();
  for (const { userId, port } of grants) {
    if (!validPort(port)) continue;
    let mine = ports.get(userId);
    if (!mine) ports.set(userId, mine = new Set());
    mine.add(port);
  }
  return ports;
}

/**
 * One line per valid key of each user granted ports: `restrict,port-forwarding`, a permit per port in
 * ascending order (all on one line, as sshd uses only the first line whose key matches), then the
 * forced command. Sorted by user then key, so the same state always gives the same bytes and an
 * unchanged file can be left alone.
 */
export function renderKeyFile(kind: KeyFileKind, keys: Iterable<KeyEntry>, ports: ReadonlyMap<string, ReadonlySet<number>>, { onInvalidKey }: RenderOptions = {}): string {
  if (ports.size === 0) return kind.header;
  const prefixes = new Map<string, string>();
  for (const [userId, granted] of ports) {
    const permits = [...granted].sort((a, b) => a - b).map(kind.permit);
    prefixes.set(userId, ['restrict', 'port-forwarding', ...permits, `command="${tunnelHoldCommand}"`].join(','));
  }

  const rows: { userId: string; keyId: string; line: string }[] = [];
  for (const entry of keys) {
    const prefix = prefixes.get(entry.userId);
    if (prefix === undefined) continue;
    const key = keyPart(entry, kind.tag);
    if (key instanceof Error) {
      onInvalidKey?.(entry, key);
      continue;
    }
    rows.push({ userId: entry.userId, keyId: entry.keyId, line: `${prefix} ${key}\n` });
  }
  rows.sort((a, b) => byCodeUnits(a.userId, b.userId) || byCodeUnits(a.keyId, b.keyId));
  return kind.header + rows.map((row) => row.line).join('');
}

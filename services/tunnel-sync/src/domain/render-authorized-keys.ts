import { authorizedKeysLine } from '@tmuxme/ssh-keys';

export interface KeyEntry {
  keyId: string;
  userId: string;
  /** `<type> <base64>`, as KeyAdded and the key snapshot carry it. */
  key: string;
}

export interface LeaseEntry {
  leaseId: string;
  userId: string;
  port: number;
}

export interface AuthorizedKeysState {
  keys: Iterable<KeyEntry>;
  /** Only this box's live leases. */
  leases: Iterable<LeaseEntry>;
}

export interface RenderOptions {
  /** Told about every key left out because it failed validation, on every render. */
  onInvalidKey?: (key: KeyEntry, error: Error) => void;
}

export const tunnelHoldCommand = '/usr/local/bin/tunnel-hold';
const header = '# Written by tmux.me tunnel-sync: one line per key of a user with a live lease here. Edits are overwritten.\n';

/**
 * sshd trusts this file, so every key is parsed again here, where it is written, whatever checked it
 * before: a stored value carrying a newline or options would let its owner add entries of their own.
 * Entries are immutable, so the verdict is remembered per entry object: a render after one event stays
 * cheap with 100k keys.
 */
const verdicts = new WeakMap<KeyEntry, string | Error>();

function keyPart(entry: KeyEntry): string | Error {
  let verdict = verdicts.get(entry);
  if (verdict === undefined) {
    try {
      const [type = '', blob = '', ...rest] = entry.key.split(' ');
      if (rest.length > 0) throw new Error('the key has more than a type and its data');
      verdict = authorizedKeysLine({ type, blob }, `tmuxme:${entry.userId}:${entry.keyId}`);
    } catch (error) {
      verdict = error as Error;
    }
    verdicts.set(entry, verdict);
  }
  return verdict;
}

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The tunnel user's authorized_keys for a state: each key of a user holding a lease on this box, pinned
 * to that user's leased ports (DESIGN section 5). Sorted by user then key, so the same state always
 * gives the same bytes and an unchanged file can be left alone.
 */
export function renderAuthorizedKeys(state: AuthorizedKeysState, { onInvalidKey }: RenderOptions = {}): string {
  const portsByUser = new Map<string, Set<number>>();
  for (const lease of state.leases) {
    if (!validPort(lease.port)) continue;
    let ports = portsByUser.get(lease.userId);
    if (!ports) portsByUser.set(lease.userId, ports = new Set());
    ports.add(lease.port);
  }
  const options = new Map<string, string>();
  for (const [userId, ports] of portsByUser) {
    const listens = [...ports].sort((a, b) => a - b).map((port) => `permitlisten="${port}"`);
    options.set(userId, ['restrict', 'port-forwarding', ...listens, `command="${tunnelHoldCommand}"`].join(','));
  }

  const rows: { userId: string; keyId: string; line: string }[] = [];
  for (const entry of state.keys) {
    const prefix = options.get(entry.userId);
    if (prefix === undefined) continue;
    const key = keyPart(entry);
    if (key instanceof Error) {
      onInvalidKey?.(entry, key);
      continue;
    }
    rows.push({ userId: entry.userId, keyId: entry.keyId, line: `${prefix} ${key}\n` });
  }
  rows.sort((a, b) => byCodeUnits(a.userId, b.userId) || byCodeUnits(a.keyId, b.keyId));
  return header + rows.map((row) => row.line).join('');
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A folder for a tunnel-sync's authorized_keys. tunnel-sync chowns the file to root as sshd wants it, so
 * this needs root; the group it is given here is root's own, as the test has no sshd that must read it.
 */
export async function authorizedKeysFolder(): Promise<{ file: string; group: string; remove(): Promise<void> }> {
  if (process.getuid?.() !== 0) throw new Error('tunnel-sync writes authorized_keys as root (chown 0:<group>): run these tests as root');
  const dir = await mkdtemp(join(tmpdir(), 'tmuxme-reliability-'));
  return { file: join(dir, 'authorized_keys'), group: 'root', remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The line tunnel-sync must write for a key of a user holding leases on these ports (docs/architecture.md §5). */
export function tunnelKeyLine({ ports, key, userId, keyId }: { ports: number[]; key: string; userId: string; keyId: string }): string {
  const listens = [...ports].sort((a, b) => a - b).map((port) => `permitlisten="${port}"`);
  return `${['restrict', 'port-forwarding', ...listens, 'command="/usr/local/bin/tunnel-hold"'].join(',')} ${key} tmuxme:${userId}:${keyId}`;
}

/** The key lines of the file (its header left out), sorted; none while it does not exist yet. */
export async function keyLinesOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.split('\n').filter((line) => line && !line.startsWith('#')).sort();
}

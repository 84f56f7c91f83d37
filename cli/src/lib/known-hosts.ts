import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PinnedHost {
  host: string;
  port: number;
  /** `<type> <base64>`, as the API hands it out (the box's key from a lease, the host's from a session). */
  publicKey: string;
}

export interface TempKnownHosts {
  file: string;
  remove(): Promise<void>;
}

/**
 * A known_hosts file holding exactly the keys we were told to expect, for
 * `ssh -o UserKnownHostsFile=<file> -o StrictHostKeyChecking=yes`: the user's
 * own known_hosts is neither trusted nor changed, and nothing is trusted on first use.
 */
export async function writeTempKnownHosts(hosts: PinnedHost[]): Promise<TempKnownHosts> {
  const dir = await mkdtemp(join(tmpdir(), 'tmuxme-known-hosts-'));
  const file = join(dir, 'known_hosts');
  const lines = hosts.map(({ host, port, publicKey }) => {
    const [type, blob] = publicKey.trim().split(/\s+/);
    if (!type || !blob) throw new Error(`not an SSH public key: ${publicKey.slice(0, 40)}`);
    return `${port === 22 ? host : `[${host}]:${port}`} ${type} ${blob}\n`;
  });
  await writeFile(file, lines.join(''), { mode: 0o600 });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}

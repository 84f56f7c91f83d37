/**
 * The tunnel boxes `npm run up` runs as root: each its own sshd (infra/tunnel-box/setup.sh) and its
 * own tunnel-sync, as on separate machines. Here they share one network, and a box's public forwards
 * bind every address, so each box leases from its own slice of 20000-29999: two boxes would
 * otherwise both hand out port 20001 and the second forward could not bind.
 */
import { execFileSync } from 'node:child_process';

export interface DevBox {
  /** 1-based. */
  n: number;
  id: string;
  dir: string;
  /** The box's sshd. */
  port: number;
  /** Its tunnel-sync's HTTP port. */
  httpPort: number;
  range: { from: number; to: number };
  hostKey?: string;
}

const rangeFrom = 20000;
const rangeSize = 10000;

/** TUNNEL_BOXES, checked: a whole number from 1 to 10 (ports 2222+ and 3005+ are taken one per box). */
export function boxCount(value = process.env.TUNNEL_BOXES): number {
  if (value === undefined || value === '') return 2;
  const count = Number(value);
  if (!/^\d+$/.test(value.trim()) || count < 1 || count > 10) {
    throw new Error(`TUNNEL_BOXES must be a whole number from 1 to 10 (tunnel boxes to run as root), not '${value}'`);
  }
  return count;
}

/** Box n: sshd on 2222+n-1, tunnel-sync on 3005+n-1, and the n-th even slice of 20000-29999. */
export function devBoxes(count: number): DevBox[] {
  return Array.from({ length: count }, (_, i) => ({
    n: i + 1,
    id: `box-${i + 1}`,
    dir: `/var/lib/tmuxme/tunnel-box-${i + 1}`,
    port: 2222 + i,
    httpPort: 3005 + i,
    range: { from: rangeFrom + Math.floor((i * rangeSize) / count), to: rangeFrom + Math.floor(((i + 1) * rangeSize) / count) - 1 },
  }));
}

/** Sets the box up and (re)starts its sshd; returns its host key as setup.sh prints it. */
export function startBoxSshd(box: DevBox, cwd: string): string {
  const output = execFileSync('bash', ['infra/tunnel-box/setup.sh', 'start', '--dir', box.dir, '--port', String(box.port)], { cwd, encoding: 'utf8' });
  return /^host key: (.+)$/m.exec(output)![1]!.trim();
}

/** Stops the box's sshd (its pid file is named after the port, hence --port). */
export function stopBoxSshd(box: DevBox, cwd: string): void {
  execFileSync('bash', ['infra/tunnel-box/setup.sh', 'stop', '--dir', box.dir, '--port', String(box.port)], { cwd, stdio: 'inherit' });
}

/** The box's tunnel-sync settings; it reads the host key setup.sh wrote beside authorized_keys. */
export function tunnelSyncEnv(box: DevBox, database: (name: string) => string): Record<string, string> {
  return {
    MONGODB_URI: database(`tunnel-sync-${box.n}`),
    BOX_ID: box.id,
    TUNNEL_HOST: '127.0.0.1',
    TUNNEL_PORT: String(box.port),
    TUNNEL_PORT_RANGE: `${box.range.from}-${box.range.to}`,
    AUTHORIZED_KEYS_FILE: `${box.dir}/authorized_keys`,
  };
}

/** Waits until sessions counts `count` boxes in rotation (their first heartbeats arrived); false on timeout. */
export async function boxesInRotation(sessionsPort: number, count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const metrics = await fetch(`http://127.0.0.1:${sessionsPort}/metrics`).then((r) => r.text(), () => '');
    const found = /^tunnel_boxes_in_rotation(?:\{[^}]*\})? (\d+)/m.exec(metrics);
    if (found && Number(found[1]) >= count) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** One banner line per box. */
export function describeBox(box: DevBox): string {
  return `${box.id.padEnd(6)} 127.0.0.1:${box.port}  ports ${box.range.from}-${box.range.to}  tunnel-sync :${box.httpPort}  host key ${box.hostKey}`;
}

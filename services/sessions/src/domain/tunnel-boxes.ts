import { randomInt } from 'node:crypto';
import { parseHostKey } from './host-key.js';

/** One tunnel box as configured: where hosts open their reverse tunnels, and which ports it lends. */
export interface TunnelBoxConfig {
  /** The name or address guests reach the box at; it goes into join commands. */
  tunnelHost: string;
  /** The box's sshd port, where hosts connect to open their tunnels. */
  tunnelPort: number;
  /** The box's SSH host public key, handed out with each lease so the CLI can pin it. */
  hostKey: string;
  ports: { first: number; last: number };
}

export interface TunnelBox extends TunnelBoxConfig {
  /** `type base64`: the configured key, checked and without its comment. */
  hostKeyLine: string;
}

/** The configured boxes, checked once at start so a bad setting stops the service instead of a lease. */
export class TunnelBoxes {
  readonly all: readonly TunnelBox[];

  constructor(configs: TunnelBoxConfig[]) {
    if (configs.length === 0) throw new Error('configure at least one tunnel box');
    const hosts = new Set(configs.map((box) => box.tunnelHost));
    if (hosts.size !== configs.length) throw new Error('two tunnel boxes have the same tunnelHost');
    this.all = configs.map((box) => ({ ...box, hostKeyLine: checkedHostKey(box), ports: checkedRange(box) }));
  }

  covering(port: number): TunnelBox[] {
    return this.all.filter(({ ports }) => port >= ports.first && port <= ports.last);
  }

  /** The configured box's key line, for documents that predate keeping it; undefined once the box is gone. */
  keyOf(tunnelHost: string): string | undefined {
    return this.all.find((box) => box.tunnelHost === tunnelHost)?.hostKeyLine;
  }

  /** Spreads leases over the boxes; later boxes are the fallback when the first is full. */
  inRandomOrder(): TunnelBox[] {
    const boxes = [...this.all];
    for (let i = boxes.length - 1; i > 0; i -= 1) {
      const j = randomInt(i + 1);
      [boxes[i], boxes[j]] = [boxes[j]!, boxes[i]!];
    }
    return boxes;
  }

  describeRanges(): string {
    return this.all.map(({ ports }) => `${ports.first}–${ports.last}`).join(', ');
  }
}

export function randomPort({ ports }: TunnelBox): number {
  return ports.first + randomInt(ports.last - ports.first + 1);
}

function checkedHostKey(box: TunnelBoxConfig): string {
  try {
    return parseHostKey(box.hostKey).line;
  } catch (error) {
    throw new Error(`tunnel box ${box.tunnelHost}: the host key is not valid: ${(error as Error).message}`);
  }
}

function checkedRange({ tunnelHost, tunnelPort, ports }: TunnelBoxConfig) {
  const { first, last } = ports;
  // Below 1024 the tunnel user could not listen.
  if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1024 || last > 65535 || first > last) {
    throw new Error(`tunnel box ${tunnelHost}: the port range ${first}-${last} must lie within 1024-65535, lowest first`);
  }
  if (tunnelPort >= first && tunnelPort <= last) {
    throw new Error(`tunnel box ${tunnelHost}: the port range ${first}-${last} holds the box's own sshd port ${tunnelPort}`);
  }
  return ports;
}

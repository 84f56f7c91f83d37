import { Type } from 'typebox';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of the sessions service, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3003),
  ...storageSettings('sessions'),
  JWT_PUBLIC_KEY: Type.String({ minLength: 1, description: 'Public key (SPKI PEM) that checks access tokens' }),
  SERVICE_TOKEN: Type.String({ default: '', description: 'Credential tunnel boxes present to read the lease snapshot (internal routes are closed while empty)' }),
  TUNNEL_HOST: Type.String({ default: '127.0.0.1', description: 'Name or address of the tunnel box as guests reach it; it goes into join commands' }),
  TUNNEL_PORT: Type.Integer({ default: 2222, minimum: 1, maximum: 65535, description: "Port of the tunnel box's sshd, where hosts open their reverse tunnels" }),
  TUNNEL_HOST_KEY: Type.String({ minLength: 1, description: "The tunnel box's SSH host public key, one line `type base64` (its ssh_host_ed25519_key.pub), handed to the CLI for pinning" }),
  TUNNEL_PORT_RANGE: Type.String({ default: '20000-29999', pattern: '^[0-9]{4,5}-[0-9]{4,5}$', description: 'The ports leased on the tunnel box, as first-last' }),
  MAX_LEASES_PER_USER: Type.Integer({ default: 5, minimum: 1, description: 'Live port leases one account may hold at once' }),
  LEASE_TTL_SECONDS: Type.Integer({ default: 120, minimum: 1, description: 'How long a leased port waits for its session to be declared' }),
  SESSION_TTL_SECONDS: Type.Integer({ default: 90, minimum: 1, description: 'A session ends this long after its last heartbeat' }),
  SWEEP_INTERVAL_MS: Type.Integer({ default: 5000, minimum: 10, description: 'How often each replica ends expired leases and sessions' }),
});

/** `20000-29999` as numbers; whether the range makes sense is checked with the rest of the box. */
export function parsePortRange(range: string): { first: number; last: number } {
  const [first, last] = range.split('-').map(Number) as [number, number];
  return { first, last };
}

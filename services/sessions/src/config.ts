import { Type } from 'typebox';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of the sessions service, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3003),
  ...storageSettings('sessions'),
  JWT_PUBLIC_KEY: Type.String({ minLength: 1, description: 'Public key (SPKI PEM) that checks access tokens' }),
  SERVICE_TOKEN: Type.String({ default: '', description: 'Credential tunnel boxes present to read the lease snapshot (internal routes are closed while empty)' }),
  BOX_SILENCE_SECONDS: Type.Integer({ default: 15, minimum: 1, description: "A tunnel box whose heartbeats stopped this long ago gets no new lease (three of tunnel-sync's HEARTBEAT_INTERVAL_MS by default); boxes announce themselves, none is configured here" }),
  MAX_LEASES_PER_USER: Type.Integer({ default: 5, minimum: 1, description: 'Live port leases one account may hold at once' }),
  LEASE_TTL_SECONDS: Type.Integer({ default: 120, minimum: 1, description: 'How long a leased port waits for its session to be declared' }),
  SESSION_TTL_SECONDS: Type.Integer({ default: 90, minimum: 1, description: 'A session ends this long after its last heartbeat' }),
  SWEEP_INTERVAL_MS: Type.Integer({ default: 5000, minimum: 10, description: 'How often each replica ends expired leases and sessions' }),
});

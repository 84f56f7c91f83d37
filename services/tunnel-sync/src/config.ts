import { Type } from 'typebox';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of tunnel-sync, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3005),
  ...storageSettings('tunnel-sync'),
  TUNNEL_HOST: Type.String({ minLength: 1, description: "This box's host name, as sessions stamps it on the leases it hands out; also names the box's queue" }),
  AUTHORIZED_KEYS_FILE: Type.String({ default: '/etc/ssh/tunnel/authorized_keys', description: "The tunnel user's authorized_keys, as the box's sshd_config names it" }),
  // No fixed defaults: a box names its directory once (AUTHORIZED_KEYS_FILE), and the other two files live beside it.
  PRIVATE_AUTHORIZED_KEYS_FILE: Type.Optional(Type.String({ minLength: 1, description: "The private tunnel user's authorized_keys (hosts of private leases, which sshd binds to the box's loopback), as the box's sshd_config names it; unset, private_authorized_keys beside AUTHORIZED_KEYS_FILE (/etc/ssh/tunnel/private_authorized_keys)" })),
  JOIN_AUTHORIZED_KEYS_FILE: Type.Optional(Type.String({ minLength: 1, description: "The join user's authorized_keys (guests of this box's sessions, on the jump path), as the box's sshd_config names it; unset, join_authorized_keys beside AUTHORIZED_KEYS_FILE (/etc/ssh/tunnel/join_authorized_keys)" })),
  TUNNEL_GROUP: Type.String({ default: 'tunnel', description: 'Group that owns the three authorized_keys files (root:<group> 0640), so sshd can read them as the tunnel, tunnel-private and join users' }),
  KEYS_URL: Type.String({ default: 'http://127.0.0.1:3002', description: 'The keys service, for the key snapshot' }),
  SESSIONS_URL: Type.String({ default: 'http://127.0.0.1:3003', description: 'The sessions service, for the lease and session snapshots' }),
  SERVICE_TOKEN: Type.String({ default: '', description: 'Service credential: presented to keys and sessions, and wanted by POST /internal/v1/converge (while empty the box lives on events alone)' }),
  CHECKPOINT_EVERY: Type.Integer({ default: 10_000, minimum: 1, description: 'Changes logged before the projection is checkpointed (bounds the replay at start)' }),
});

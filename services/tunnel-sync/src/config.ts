import { Type } from 'typebox';
import { boxIdPattern } from '@tmuxme/events';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of tunnel-sync, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3005),
  ...storageSettings('tunnel-sync'),
  TUNNEL_HOST: Type.String({ minLength: 1, maxLength: 253, description: "This box's host name or address as guests and hosts reach it: it goes into join commands" }),
  BOX_ID: Type.Optional(Type.String({ pattern: boxIdPattern, description: "This box's id among the boxes (lower-case letters, digits, dots and dashes): it names the box's queue `tunnel-sync.<BOX_ID>`, which takes only this box's leases and sessions; unset, TUNNEL_HOST in lower case" })),
  TUNNEL_PORT: Type.Integer({ default: 2222, minimum: 1, maximum: 65535, description: "The box's sshd port as hosts and guests reach it (announced in every heartbeat)" }),
  TUNNEL_HOST_KEY: Type.Optional(Type.String({ minLength: 1, description: "The box's SSH host public key, `type base64` (announced so hosts can pin it); unset, ssh_host_ed25519_key.pub beside AUTHORIZED_KEYS_FILE, where infra/tunnel-box/setup.sh puts it" })),
  TUNNEL_PORT_RANGE: Type.String({ default: '20000-29999', pattern: '^[0-9]{4,5}-[0-9]{4,5}$', description: 'The ports leased on this box, as first-last (open them in its firewall)' }),
  SSHD_ADDRESS: Type.String({ default: '', description: "host:port where tunnel-sync checks that the box's sshd answers before each heartbeat (a box whose sshd is down takes no new leases); unset, 127.0.0.1:<TUNNEL_PORT>" }),
  DRAINING: Type.Boolean({ default: false, description: 'true takes the box out of rotation: it gets no new leases, and its live sessions go on (see docs/operations.md, "Draining a box")' }),
  HEARTBEAT_INTERVAL_MS: Type.Integer({ default: 5000, minimum: 100, description: "How often the box announces itself to sessions; sessions' BOX_SILENCE_SECONDS should be about three of these" }),
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

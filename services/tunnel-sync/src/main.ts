import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '@tmuxme/config';
import { portRangeFlaw } from '@tmuxme/events';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);
const [from, to] = config.TUNNEL_PORT_RANGE.split('-').map(Number) as [number, number];
const rangeFlaw = portRangeFlaw({ tunnelPort: config.TUNNEL_PORT, portRange: { from, to } });
if (rangeFlaw) {
  // sessions would leave the box out of rotation for it: better to say so now than to announce in vain.
  console.error(`tunnel-sync: TUNNEL_PORT_RANGE: ${rangeFlaw}`);
  process.exit(1);
}
// setup.sh writes the box's host key beside its key files.
const hostKeyFile = join(dirname(config.AUTHORIZED_KEYS_FILE), 'ssh_host_ed25519_key.pub');
let hostKey = config.TUNNEL_HOST_KEY;
try {
  hostKey ??= readFileSync(hostKeyFile, 'utf8').trim();
} catch (error) {
  console.error(`tunnel-sync: TUNNEL_HOST_KEY is not set, and the box's host key cannot be read at ${hostKeyFile} (${(error as Error).message}): set TUNNEL_HOST_KEY or TUNNEL_HOST_KEY_FILE`);
  process.exit(1);
}
const sshdAddress = config.SSHD_ADDRESS || `127.0.0.1:${config.TUNNEL_PORT}`;
const portAt = sshdAddress.lastIndexOf(':');

await runService({
  name: 'tunnel-sync',
  app,
  config,
  options: {
    mongoUrl: config.MONGODB_URI,
    amqpUrl: config.AMQP_URL,
    tunnelHost: config.TUNNEL_HOST,
    boxId: config.BOX_ID,
    heartbeat: {
      tunnelPort: config.TUNNEL_PORT,
      hostKey,
      portRange: { from, to },
      draining: config.DRAINING,
      intervalMs: config.HEARTBEAT_INTERVAL_MS,
      sshd: { host: sshdAddress.slice(0, portAt).replace(/^\[|\]$/g, ''), port: Number(sshdAddress.slice(portAt + 1)) },
    },
    authorizedKeysFile: config.AUTHORIZED_KEYS_FILE,
    privateAuthorizedKeysFile: config.PRIVATE_AUTHORIZED_KEYS_FILE,
    joinAuthorizedKeysFile: config.JOIN_AUTHORIZED_KEYS_FILE,
    tunnelGroup: config.TUNNEL_GROUP,
    serviceToken: config.SERVICE_TOKEN,
    keysUrl: config.KEYS_URL,
    sessionsUrl: config.SESSIONS_URL,
    checkpointEvery: config.CHECKPOINT_EVERY,
  },
});

import { loadConfig } from '@tmuxme/config';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);

await runService({
  name: 'tunnel-sync',
  app,
  config,
  options: {
    mongoUrl: config.MONGODB_URI,
    amqpUrl: config.AMQP_URL,
    tunnelHost: config.TUNNEL_HOST,
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

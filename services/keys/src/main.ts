import { loadConfig } from '@tmuxme/config';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);

await runService({
  name: 'keys',
  app,
  config,
  options: {
    mongoUrl: config.MONGODB_URI,
    amqpUrl: config.AMQP_URL,
    jwtPublicKey: config.JWT_PUBLIC_KEY,
    serviceToken: config.SERVICE_TOKEN,
    maxKeysPerUser: config.MAX_KEYS_PER_USER,
  },
});

import { loadConfig } from '@tmuxme/config';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);

await runService({
  name: 'accounts',
  app,
  config,
  options: {
    mongoUrl: config.MONGODB_URI,
    amqpUrl: config.AMQP_URL,
    jwtPrivateKey: config.JWT_PRIVATE_KEY,
    jwtPublicKey: config.JWT_PUBLIC_KEY,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    bcryptCost: config.BCRYPT_COST,
    loginLimits: {
      perAddress: config.LOGIN_LIMIT_PER_ADDRESS,
      perAccount: config.LOGIN_LIMIT_PER_ACCOUNT,
      windowSeconds: config.LOGIN_LIMIT_WINDOW_SECONDS,
    },
  },
});

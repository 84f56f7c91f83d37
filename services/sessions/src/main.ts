import { loadConfig } from '@tmuxme/config';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);

await runService({
  name: 'sessions',
  app,
  config,
  options: {
    mongoUrl: config.MONGODB_URI,
    amqpUrl: config.AMQP_URL,
    jwtPublicKey: config.JWT_PUBLIC_KEY,
    serviceToken: config.SERVICE_TOKEN,
    boxSilenceMs: config.BOX_SILENCE_SECONDS * 1000,
    maxLeasesPerUser: config.MAX_LEASES_PER_USER,
    leaseTtlMs: config.LEASE_TTL_SECONDS * 1000,
    sessionTtlMs: config.SESSION_TTL_SECONDS * 1000,
    sweepIntervalMs: config.SWEEP_INTERVAL_MS,
  },
});

import { fileURLToPath } from 'node:url';
import { loadConfig } from '@tmuxme/config';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);

await runService({
  name: 'gateway',
  app,
  config,
  // Clients do not choose request ids: the gateway is where they start.
  trustRequestId: false,
  options: {
    upstreams: { accounts: config.ACCOUNTS_URL, keys: config.KEYS_URL, sessions: config.SESSIONS_URL },
    webRoot: config.WEB_ROOT ?? fileURLToPath(new URL('../../../web/dist', import.meta.url)),
    trustProxy: config.TRUST_PROXY,
  },
});

import { loadConfig } from '@tmuxme/config';
import { runService } from '@tmuxme/service-kit';
import app from './app.js';
import { configSchema } from './config.js';

const config = loadConfig(configSchema);

await runService({
  name: 'notifier',
  app,
  config,
  options: {
    mongoUrl: config.MONGODB_URI,
    amqpUrl: config.AMQP_URL,
    exchange: config.AMQP_EXCHANGE,
    deadLetterExchange: config.AMQP_DEAD_LETTER_EXCHANGE,
    queue: config.AMQP_QUEUE,
    smtpUrl: config.SMTP_URL,
    mailFrom: config.MAIL_FROM,
    mailReplyTo: config.MAIL_REPLY_TO,
    publicUrl: config.PUBLIC_URL,
    smtpMaxConnections: config.SMTP_MAX_CONNECTIONS,
    smtpMaxMessages: config.SMTP_MAX_MESSAGES,
    prefetch: config.PREFETCH,
    maxDeliveries: config.MAX_DELIVERIES,
    retryDelayMs: config.RETRY_DELAY_MS,
    claimLeaseMs: config.MAIL_CLAIM_LEASE_SECONDS * 1000,
  },
});

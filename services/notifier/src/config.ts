import { Type } from 'typebox';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of the notifier, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3004),
  ...storageSettings('notifier'),
  AMQP_EXCHANGE: Type.String({ default: 'tmuxme.events', description: 'Exchange the events arrive on' }),
  AMQP_DEAD_LETTER_EXCHANGE: Type.String({ default: 'tmuxme.dlx', description: 'Where events go after their last failed attempt' }),
  AMQP_QUEUE: Type.String({ default: 'notifier', description: 'The queue every notifier replica takes events from' }),
  SMTP_URL: Type.String({ default: 'smtp://127.0.0.1:1025', description: 'SMTP relay, e.g. smtp://user:pass@relay:587 or smtps://relay:465' }),
  MAIL_FROM: Type.String({ default: 'tmux.me <invite@tmux.me>', minLength: 3, description: 'From header of every invitation' }),
  MAIL_REPLY_TO: Type.Optional(Type.String({ minLength: 3, description: 'Reply-To header; replies go to MAIL_FROM when unset' })),
  PUBLIC_URL: Type.String({ default: 'http://127.0.0.1:8080', description: 'Where new guests sign up and add their SSH key' }),
  SMTP_MAX_CONNECTIONS: Type.Integer({ default: 10, minimum: 1, description: 'Pooled SMTP connections, which is also how many mails are sent at once' }),
  SMTP_MAX_MESSAGES: Type.Integer({ default: 100, minimum: 1, description: 'Mails one SMTP connection carries before it is replaced' }),
  PREFETCH: Type.Integer({ default: 50, minimum: 1, description: 'Events this replica holds at once, those waiting to be retried included' }),
  MAX_DELIVERIES: Type.Integer({ default: 10, minimum: 1, description: 'Attempts at an event before it goes to the dead-letter queue' }),
  RETRY_DELAY_MS: Type.Integer({ default: 1000, minimum: 0, description: 'First delay before a failed event is retried; it doubles every attempt, up to 30 s' }),
  MAIL_CLAIM_LEASE_SECONDS: Type.Integer({
    default: 60, minimum: 5, description: 'How long a replica that took a mail may take to send it before another may; keep it below the total retry time',
  }),
});

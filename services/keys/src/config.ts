import { Type } from 'typebox';

/** Every setting of the keys service, read from the environment by main.ts. */
export const configSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  PORT: Type.Integer({ default: 3002, description: 'HTTP port' }),
  MONGODB_URI: Type.String({ default: 'mongodb://127.0.0.1:27017/keys', description: "URL of the service's own database" }),
  AMQP_URL: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672', description: 'RabbitMQ URL' }),
  JWT_PUBLIC_KEY: Type.String({ minLength: 1, description: 'Public key (SPKI PEM) that checks access tokens' }),
  MAX_KEYS_PER_USER: Type.Integer({ default: 50, minimum: 1, description: 'How many SSH keys one account may hold' }),
  PUBLIC_KEYS_CACHE_MS: Type.Integer({ default: 2000, minimum: 0, description: 'How long a public key list may be served from memory; other replicas see a change within this time' }),
  LOG_LEVEL: Type.String({ default: 'info', description: 'pino log level' }),
});

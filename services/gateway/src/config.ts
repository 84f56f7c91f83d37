import { Type } from 'typebox';

export const configSchema = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  PORT: Type.Integer({ default: 8080, description: 'HTTP port of the public entry' }),
  ACCOUNTS_URL: Type.String({ default: 'http://127.0.0.1:3001', description: 'Base URL of the accounts service' }),
  KEYS_URL: Type.String({ default: 'http://127.0.0.1:3002', description: 'Base URL of the keys service' }),
  SESSIONS_URL: Type.String({ default: 'http://127.0.0.1:3003', description: 'Base URL of the sessions service' }),
  LOG_LEVEL: Type.String({ default: 'info', description: 'pino log level' }),
});

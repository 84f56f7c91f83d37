import { Type } from 'typebox';
import { serverSettings } from '@tmuxme/config';

export const configSchema = Type.Object({
  ...serverSettings(8080),
  ACCOUNTS_URL: Type.String({ default: 'http://127.0.0.1:3001', description: 'Base URL of the accounts service' }),
  KEYS_URL: Type.String({ default: 'http://127.0.0.1:3002', description: 'Base URL of the keys service' }),
  SESSIONS_URL: Type.String({ default: 'http://127.0.0.1:3003', description: 'Base URL of the sessions service' }),
  WEB_ROOT: Type.Optional(Type.String({ description: "Folder of the built web pages (default: the repository's web/dist)" })),
  TRUST_PROXY: Type.Boolean({
    default: false,
    description: 'Set when a TLS-terminating proxy in front sets X-Forwarded-Proto and X-Forwarded-Host; never when clients reach the gateway directly',
  }),
});

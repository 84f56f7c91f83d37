import { Type } from 'typebox';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of the keys service, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3002),
  ...storageSettings('keys'),
  JWT_PUBLIC_KEY: Type.String({ minLength: 1, description: 'Public key (SPKI PEM) that checks access tokens' }),
  SERVICE_TOKEN: Type.String({ default: '', description: 'Credential tunnel boxes present to read the key snapshot (internal routes are closed while empty)' }),
  MAX_KEYS_PER_USER: Type.Integer({ default: 50, minimum: 1, description: 'How many SSH keys one account may hold' }),
});

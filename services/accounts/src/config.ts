import { Type } from 'typebox';
import { serverSettings, storageSettings } from '@tmuxme/config';

/** Every setting of the accounts service, read from the environment by main.ts. */
export const configSchema = Type.Object({
  ...serverSettings(3001),
  ...storageSettings('accounts'),
  JWT_PRIVATE_KEY: Type.String({ minLength: 1, description: 'Ed25519 private key (PKCS#8 PEM) that signs access tokens' }),
  JWT_PUBLIC_KEY: Type.String({ minLength: 1, description: 'The matching public key (SPKI PEM)' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ default: 900, minimum: 60, description: 'Lifetime of an access token' }),
  BCRYPT_COST: Type.Integer({ default: 12, minimum: 4, maximum: 15, description: 'bcrypt work factor for passwords' }),
  LOGIN_LIMIT_PER_ADDRESS: Type.Integer({ default: 30, minimum: 1, description: 'Failed logins per client address per window, and apart from them failed API token exchanges; successful ones are not counted' }),
  LOGIN_LIMIT_PER_ACCOUNT: Type.Integer({ default: 10, minimum: 1, description: 'Failed logins per account per window' }),
  LOGIN_LIMIT_WINDOW_SECONDS: Type.Integer({ default: 900, minimum: 1, description: 'Length of the window in which the login limits count failures' }),
});

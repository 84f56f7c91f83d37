import { createSigner, generateSigningKeys, type Principal } from '@tmuxme/auth';
import { buildApp, testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import keysApp, { type KeysOptions } from '../src/app.js';

export const signingKeys = generateSigningKeys();

export function keysOptions(overrides: Partial<KeysOptions> = {}): KeysOptions {
  return {
    mongoUrl: testMongoUrl(uniqueName('keys')),
    amqpUrl: testAmqpUrl(),
    ...testExchanges(),
    queue: uniqueName('keys'),
    jwtPublicKey: signingKeys.publicKey,
    outboxIntervalMs: 200,
    ...overrides,
  };
}

export const buildKeysApp = (options: KeysOptions) => buildApp(keysApp, options);

/** What accounts would hand the user after login. */
export async function bearerFor(principal: Principal): Promise<{ authorization: string }> {
  const signer = await createSigner(signingKeys.privateKey, 900);
  return { authorization: `Bearer ${await signer.sign(principal)}` };
}

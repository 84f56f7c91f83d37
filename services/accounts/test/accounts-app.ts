import { generateSigningKeys } from '@tmuxme/auth';
import type { ServerOptions } from '@tmuxme/service-kit';
import { buildApp, testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import accountsApp, { type AccountsOptions } from '../src/app.js';

export const signingKeys = generateSigningKeys();

/** An accounts app on its own database and exchange, with a cheap bcrypt cost. */
export function accountsOptions(overrides: Partial<AccountsOptions> = {}): AccountsOptions {
  return {
    mongoUrl: testMongoUrl(uniqueName('accounts')),
    amqpUrl: testAmqpUrl(),
    ...testExchanges(),
    jwtPrivateKey: signingKeys.privateKey,
    jwtPublicKey: signingKeys.publicKey,
    accessTokenTtlSeconds: 900,
    bcryptCost: 4,
    loginLimits: { perAddress: 1000, perAccount: 5, windowSeconds: 60 },
    outboxIntervalMs: 200,
    ...overrides,
  };
}

export const buildAccountsApp = (options: AccountsOptions, serverOptions?: ServerOptions) => buildApp(accountsApp, options, serverOptions);

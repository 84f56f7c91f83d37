import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { createSigner } from '@tmuxme/auth';
import { authPlugin, busPlugin, databasePlugin, healthPlugin, outboxPlugin } from '@tmuxme/service-kit';
import { userModel } from './model/user.js';
import { usernameClaimModel } from './model/username-claim.js';
import { emailClaimModel } from './model/email-claim.js';
import { apiTokenModel } from './model/api-token.js';
import { apiTokenHashModel } from './model/api-token-hash.js';
import { apiTokenSlotModel } from './model/api-token-slot.js';
import { Accounts } from './domain/accounts.js';
import { ApiTokens } from './domain/api-tokens.js';
import { reconcileLookups } from './domain/reconcile-lookups.js';
import { PasswordHasher } from './domain/passwords.js';
import { LoginThrottle } from './domain/login-throttle.js';
import { usersRoutes } from './routes/users.js';
import { authRoutes } from './routes/auth.js';
import { userRoutes } from './routes/user.js';
import { tokensRoutes } from './routes/tokens.js';

export interface AccountsOptions {
  mongoUrl: string;
  amqpUrl: string;
  exchange?: string;
  deadLetterExchange?: string;
  jwtPrivateKey: string;
  jwtPublicKey: string;
  accessTokenTtlSeconds: number;
  bcryptCost: number;
  /** Failures allowed per window: logins per address and per account, API token exchanges per address (counted apart). */
  loginLimits: { perAddress: number; perAccount: number; windowSeconds: number };
  outboxIntervalMs?: number;
}

/** The accounts service: sign-up, login, API tokens, account settings. It never listens by itself. */
const accountsApp: FastifyPluginAsync<AccountsOptions> = async (app, options) => {
  await app.register(healthPlugin, { service: 'accounts' });
  await app.register(databasePlugin, { url: options.mongoUrl });
  await app.register(busPlugin, { url: options.amqpUrl, producer: 'accounts', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  await app.register(outboxPlugin, { models: (db) => [userModel(db)], intervalMs: options.outboxIntervalMs });
  await app.register(authPlugin, { publicKey: options.jwtPublicKey });

  const models = {
    users: userModel(app.db),
    usernames: usernameClaimModel(app.db),
    emails: emailClaimModel(app.db),
    tokens: apiTokenModel(app.db),
    hashes: apiTokenHashModel(app.db),
    slots: apiTokenSlotModel(app.db),
  };
  await Promise.all(Object.values(models).map((model) => model.init()));
  // Before any route serves: a login or token exchange finds its account only through these lookups.
  const reconciled = await reconcileLookups(models);
  app.log.info(reconciled, 'lookups by _id reconciled with the users and API tokens');
  if (reconciled.revoked.length > 0) {
    app.log.warn({ tokenIds: reconciled.revoked }, 'revoked the API tokens beyond the 50 an account may hold');
  }

  const { users, usernames, emails } = models;
  const window = options.loginLimits.windowSeconds * 1000;
  const accounts = new Accounts({
    users,
    usernames,
    emails,
    apiTokens: new ApiTokens(models),
    hasher: new PasswordHasher(options.bcryptCost),
    signer: await createSigner(options.jwtPrivateKey, options.accessTokenTtlSeconds),
    throttles: {
      perAddress: new LoginThrottle(options.loginLimits.perAddress, window),
      perAccount: new LoginThrottle(options.loginLimits.perAccount, window),
      tokenExchangePerAddress: new LoginThrottle(options.loginLimits.perAddress, window),
    },
    outbox: app.outbox,
  });

  await app.register(usersRoutes, { accounts });
  await app.register(authRoutes, { accounts });
  await app.register(userRoutes, { accounts });
  await app.register(tokensRoutes, { accounts });
};

export default fp(accountsApp, { name: 'accounts-app' });

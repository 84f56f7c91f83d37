import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { serviceLogger } from '@tmuxme/service-kit';
import { PasswordHasher } from '../src/domain/passwords.js';
import { generateApiToken, hashApiToken, tokenHint } from '../src/domain/api-token-secrets.js';
import { reconcileLookups } from '../src/domain/reconcile-lookups.js';
import { userModel } from '../src/model/user.js';
import { usernameClaimModel } from '../src/model/username-claim.js';
import { emailClaimModel } from '../src/model/email-claim.js';
import { apiTokenModel } from '../src/model/api-token.js';
import { apiTokenHashModel } from '../src/model/api-token-hash.js';
import { apiTokenSlotModel } from '../src/model/api-token-slot.js';
import { accountsOptions, buildAccountsApp } from './accounts-app.js';

/**
 * Users and tokens written before the lookups by `_id` existed get them when the service starts, and
 * lookups a request cut short left behind go; after that, logins and token exchanges work as ever.
 */
const options = accountsOptions();
const password = 'correct horse battery';
const hourAgo = () => new Date(Date.now() - 3_600_000);
const ids = { old: new mongoose.Types.ObjectId(), gone: new mongoose.Types.ObjectId(), many: new mongoose.Types.ObjectId() };
const secrets = { old: generateApiToken(), gone: generateApiToken(), many: Array.from({ length: 51 }, () => generateApiToken()) };
let app: Awaited<ReturnType<typeof buildAccountsApp>>;
const logged: Record<string, unknown>[] = [];

/** A lookup keyed by a string, written the way a request cut short leaves it. */
type Lookup = { _id: string } & Record<string, unknown>;

/** A token document as the service wrote it before: an ObjectId `_id`, found by its `hash` field. */
const oldToken = (userId: mongoose.Types.ObjectId, name: string, secret: string, createdAt: Date) => ({
  _id: new mongoose.Types.ObjectId(), userId, name, hash: hashApiToken(secret), hint: tokenHint(secret), createdAt, lastUsedAt: null, __v: 0,
});

beforeAll(async () => {
  const seed = await mongoose.createConnection(options.mongoUrl).asPromise();
  const passwordHash = await new PasswordHasher(4).hash(password);
  const user = (_id: mongoose.Types.ObjectId, username: string, deletedAt: Date | null) =>
    ({ _id, username, email: `${username}@example.com`, passwordHash, createdAt: hourAgo(), eventIds: [], deletedAt, __v: 0 });
  await seed.collection('users').insertMany([user(ids.old, 'old', null), user(ids.gone, 'gone', hourAgo()), user(ids.many, 'many', null)]);
  await seed.collection('apitokens').insertMany([
    oldToken(ids.old, 'cli', secrets.old, hourAgo()),
    oldToken(ids.gone, 'cli', secrets.gone, hourAgo()),
    ...secrets.many.map((secret, i) => oldToken(ids.many, `token ${i}`, secret, new Date(Date.now() - 3_600_000 + i * 1000))),
  ]);
  const phantom = new mongoose.Types.ObjectId();
  await seed.collection<Lookup>('usernames').insertMany([
    { _id: 'phantom', userId: phantom, createdAt: hourAgo() },
    { _id: 'inflight', userId: phantom, createdAt: new Date() },
  ]);
  // Left by an address change cut short after the user document was written.
  await seed.collection<Lookup>('emails').insertOne({ _id: 'old-before@example.com', userId: ids.old, createdAt: hourAgo() });
  await seed.collection<Lookup>('api_token_slots').insertOne({ _id: `${ids.old.toString()}:7`, tokenId: new mongoose.Types.ObjectId(), createdAt: hourAgo() });
  await seed.collection<Lookup>('api_token_hashes').insertOne({ _id: hashApiToken(generateApiToken()), tokenId: new mongoose.Types.ObjectId(), createdAt: hourAgo() });
  await seed.close();

  app = await buildAccountsApp(options, { loggerInstance: serviceLogger('accounts', 'info', { write: (line: string) => logged.push(JSON.parse(line)) }) });
});
afterAll(async () => {
  await app?.close();
});

const login = (loginName: string) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: loginName, password } });
const exchange = (secret: string) => app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${secret}` } });

describe('the start-up reconciliation of the lookups by _id', () => {
  it('adds the missing ones, removes those left behind, revokes tokens beyond 50, and says so', () => {
    const line = logged.find((l) => l.msg === 'lookups by _id reconciled with the users and API tokens');
    expect(line).toMatchObject({
      level: 30,
      added: { usernames: 2, emails: 2, slots: 51, hashes: 51 },
      removed: { usernames: 1, emails: 1, slots: 1, hashes: 1 },
    });
    const warning = logged.find((l) => l.msg === 'revoked the API tokens beyond the 50 an account may hold');
    expect(warning).toMatchObject({ level: 40, tokenIds: [expect.stringMatching(/^[0-9a-f]{24}$/)] });
  });

  it('lets old accounts log in by username and e-mail, and old API tokens be exchanged, listed and revoked', async () => {
    expect((await login('old')).statusCode).toBe(200);
    expect((await login('old@example.com')).statusCode).toBe(200);
    expect((await login('old-before@example.com')).statusCode).toBe(401);
    const exchanged = await exchange(secrets.old);
    expect(exchanged.statusCode).toBe(200);
    const jwt = exchanged.json().accessToken as string;
    const list = await app.inject({ url: '/api/v1/user/tokens', headers: { authorization: `Bearer ${jwt}` } });
    expect(list.json()).toEqual([{ id: expect.any(String), name: 'cli', hint: tokenHint(secrets.old), createdAt: expect.any(String), lastUsedAt: expect.any(String) }]);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/user/tokens/${list.json()[0].id}`, headers: { authorization: `Bearer ${jwt}` } })).statusCode).toBe(204);
    expect((await exchange(secrets.old)).statusCode).toBe(401);
  });

  it('keeps the 50 oldest tokens of an account that had more, and gives a deleted account nothing', async () => {
    const statuses = await Promise.all(secrets.many.map(async (secret) => (await exchange(secret)).statusCode));
    expect(statuses).toEqual([...Array<number>(50).fill(200), 401]);
    expect((await login('gone')).statusCode).toBe(401);
    expect((await exchange(secrets.gone)).statusCode).toBe(401);
  });

  it('frees a name held by an account that never came, once its sign-up can no longer be running', async () => {
    const signup = (username: string) =>
      app.inject({ method: 'POST', url: '/api/v1/users', payload: { username, email: `${username}@example.com`, password, passwordConfirmation: password } });
    expect((await signup('phantom')).statusCode).toBe(201);
    expect((await signup('inflight')).json().code).toBe('USERNAME_TAKEN');
  });

  it('changes nothing when run again', async () => {
    const db = app.db;
    const models = {
      users: userModel(db), usernames: usernameClaimModel(db), emails: emailClaimModel(db),
      tokens: apiTokenModel(db), hashes: apiTokenHashModel(db), slots: apiTokenSlotModel(db),
    };
    const none = { usernames: 0, emails: 0, slots: 0, hashes: 0 };
    expect(await reconcileLookups(models)).toEqual({ added: none, removed: none, revoked: [] });
  });
});

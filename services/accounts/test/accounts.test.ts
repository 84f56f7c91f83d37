import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, testAmqpUrl } from '@tmuxme/testing';
import { accountsOptions, buildAccountsApp } from './accounts-app.js';

const options = accountsOptions();
let app: Awaited<ReturnType<typeof buildAccountsApp>>;
let spy: EventSpy;

beforeAll(async () => {
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!);
  app = await buildAccountsApp(options);
});
afterAll(async () => {
  await app?.close();
  await spy?.stop();
});

const password = 'correct horse battery';
async function signup(username: string, email = `${username}@example.com`) {
  const response = await app.inject({ method: 'POST', url: '/api/v1/users', payload: { username, email, password, passwordConfirmation: password } });
  expect(response.statusCode).toBe(201);
  return response.json() as { username: string; email: string; apiToken: string };
}
async function login(loginName: string, pass = password) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: loginName, password: pass } });
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('sign-up and login', () => {
  it('signs up, shows the API token once, and publishes UserRegistered', async () => {
    const created = await signup('alice');
    expect(created).toEqual({ username: 'alice', email: 'alice@example.com', apiToken: expect.stringMatching(/^tmx_[0-9A-Za-z]{40}$/) });
    const [event] = await spy.waitFor('UserRegistered');
    expect(event).toMatchObject({ producer: 'accounts', routingKey: 'user.registered', data: { username: 'alice', email: 'alice@example.com' } });
    expect(event!.data.userId).toMatch(/^[0-9a-f]{24}$/);
    expect(event!.requestId).toEqual(expect.any(String));
    const stored = await app.db.collection('users').findOne({ username: 'alice' });
    expect(JSON.stringify(stored)).not.toContain(password);
    const tokens = await app.db.collection('apitokens').find().toArray();
    expect(JSON.stringify(tokens)).not.toContain(created.apiToken);
  });

  it('refuses a taken username or e-mail with 409, case-insensitively', async () => {
    const again = await app.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'alice', email: 'other@example.com', password, passwordConfirmation: password } });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('USERNAME_TAKEN');
    const email = await app.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'alice2', email: 'ALICE@example.com', password, passwordConfirmation: password } });
    expect(email.json()).toMatchObject({ statusCode: 409, code: 'EMAIL_TAKEN' });
  });

  it('logs in by username or e-mail and the JWT reads the account', async () => {
    for (const name of ['alice', 'Alice@Example.com']) {
      const response = await login(name);
      expect(response.statusCode).toBe(200);
      const { accessToken, tokenType, expiresIn } = response.json();
      expect({ tokenType, expiresIn }).toEqual({ tokenType: 'Bearer', expiresIn: 900 });
      const me = await app.inject({ url: '/api/v1/user', headers: bearer(accessToken) });
      expect(me.json()).toEqual({ username: 'alice', email: 'alice@example.com', createdAt: expect.any(String) });
    }
  });

  it('answers a wrong password and an unknown user alike, and throttles guessing per account', async () => {
    const wrong = await login('alice', 'not the password');
    const unknown = await login('nobody-here', 'not the password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    for (let i = 0; i < 5; i += 1) await login('throttled', 'wrong password!');
    const blocked = await login('throttled', 'wrong password!');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('API tokens', () => {
  it('exchanges, lists without secrets, and stops working once revoked', async () => {
    const { apiToken } = await signup('bob');
    const exchanged = await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${apiToken}` } });
    expect(exchanged.statusCode).toBe(200);
    const jwt = exchanged.json().accessToken as string;

    const created = await app.inject({ method: 'POST', url: '/api/v1/user/tokens', headers: bearer(jwt), payload: { name: 'laptop' } });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect(token).toMatch(/^tmx_/);

    const list = await app.inject({ url: '/api/v1/user/tokens', headers: bearer(jwt) });
    const tokens = list.json() as { id: string; name: string; hint: string; lastUsedAt: string | null }[];
    expect(tokens.map((t) => t.name)).toEqual(['default', 'laptop']);
    expect(tokens[0]!.lastUsedAt).not.toBeNull();
    expect(tokens[1]!.hint).toBe(`tmx_…${token.slice(-4)}`);
    expect(list.body).not.toContain(token);
    expect(list.body).not.toContain(apiToken);

    expect((await app.inject({ method: 'DELETE', url: `/api/v1/user/tokens/${id}`, headers: bearer(jwt) })).statusCode).toBe(204);
    const revoked = await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${token}` } });
    expect(revoked.json()).toMatchObject({ statusCode: 401, code: 'INVALID_API_TOKEN' });
  });

  it("cannot revoke another user's token", async () => {
    const carol = await signup('carol');
    const dave = await signup('dave');
    const jwt = async (t: string) => (await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${t}` } })).json().accessToken as string;
    const carolJwt = await jwt(carol.apiToken);
    const daveTokens = (await app.inject({ url: '/api/v1/user/tokens', headers: bearer(await jwt(dave.apiToken)) })).json();
    const response = await app.inject({ method: 'DELETE', url: `/api/v1/user/tokens/${daveTokens[0].id}`, headers: bearer(carolJwt) });
    expect(response.json()).toMatchObject({ statusCode: 404, code: 'TOKEN_NOT_FOUND' });
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${dave.apiToken}` } })).statusCode).toBe(200);
  });
});

describe('account settings', () => {
  it('changes e-mail and password with the current password, publishing UserUpdated', async () => {
    await signup('erin');
    const jwt = (await login('erin')).json().accessToken;
    const refused = await app.inject({ method: 'PATCH', url: '/api/v1/user', headers: bearer(jwt), payload: { currentPassword: 'wrong password', email: 'new@example.com' } });
    expect(refused.json()).toMatchObject({ statusCode: 403, code: 'WRONG_PASSWORD' });

    const changed = await app.inject({ method: 'PATCH', url: '/api/v1/user', headers: bearer(jwt), payload: { currentPassword: password, email: 'erin@new.example', password: 'a brand new secret' } });
    expect(changed.json()).toMatchObject({ username: 'erin', email: 'erin@new.example' });
    const [updated] = await spy.waitFor('UserUpdated');
    expect(updated!.data).toMatchObject({ username: 'erin', email: 'erin@new.example' });
    expect((await login('erin')).statusCode).toBe(401);
    expect((await login('erin@new.example', 'a brand new secret')).statusCode).toBe(200);
    // The old address was released: it logs no one in, and another account may have it.
    expect((await login('erin@example.com', 'a brand new secret')).statusCode).toBe(401);
    await signup('erin-two', 'erin@example.com');
  });

  it('deletes the account with its password: tokens stop, UserDeleted goes out, the name can be taken again later', async () => {
    const { apiToken } = await signup('frank');
    const jwt = (await login('frank')).json().accessToken;
    const wrong = await app.inject({ method: 'DELETE', url: '/api/v1/user', headers: bearer(jwt), payload: { password: 'wrong password' } });
    expect(wrong.statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/user', headers: bearer(jwt), payload: { password } })).statusCode).toBe(204);
    const [deleted] = await spy.waitFor('UserDeleted');
    expect(deleted!.data).toMatchObject({ username: 'frank' });
    expect((await app.inject({ url: '/api/v1/user', headers: bearer(jwt) })).json().code).toBe('ACCOUNT_GONE');
    expect((await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization: `Token ${apiToken}` } })).statusCode).toBe(401);
    expect((await login('frank')).statusCode).toBe(401);
    // Free once the relay has purged the tombstone, which holds the names in the users' unique indexes till then.
    const again = { username: 'frank', email: 'frank@example.com', password, passwordConfirmation: password };
    await eventually(async () => (await app.inject({ method: 'POST', url: '/api/v1/users', payload: again })).statusCode === 201);
    expect((await login('frank')).statusCode).toBe(200);
  });
});

describe('service endpoints', () => {
  it('serves healthz, readyz and metrics', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ ready: true, checks: { database: true, broker: true } });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toContain('http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('outbox_backlog');
  });
});

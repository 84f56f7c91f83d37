import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { accountsOptions, buildAccountsApp } from './accounts-app.js';

/**
 * Without transactions, what is unique is decided by inserts under a unique `_id`: of requests racing for
 * one username, one e-mail address or one of an account's 50 token slots, exactly one gets it.
 */
let app: Awaited<ReturnType<typeof buildAccountsApp>>;

beforeAll(async () => {
  app = await buildAccountsApp(accountsOptions());
});
afterAll(async () => {
  await app?.close();
});

const password = 'correct horse battery';
const signup = (username: string, email: string) =>
  app.inject({ method: 'POST', url: '/api/v1/users', payload: { username, email, password, passwordConfirmation: password } });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const outcomes = (responses: { statusCode: number; json(): { code?: string } }[]) =>
  responses.map((r) => (r.statusCode < 300 ? r.statusCode : `${r.statusCode} ${r.json().code}`)).sort();

describe('concurrent sign-ups', () => {
  it('give a username to exactly one of them', async () => {
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => signup('racer', `racer-${i}@example.com`)));
    expect(outcomes(responses)).toEqual([201, ...Array<string>(11).fill('409 USERNAME_TAKEN')]);
    const winner = responses.find((r) => r.statusCode === 201)!.json().email as string;
    // The losers released the addresses they had claimed.
    const other = responses.map((r, i) => `racer-${i}@example.com`).find((email) => email !== winner)!;
    expect((await signup('racer-late', other)).statusCode).toBe(201);
  });

  it('give an e-mail address to exactly one of them', async () => {
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => signup(`mailer-${i}`, 'Shared@Example.com')));
    expect(outcomes(responses)).toEqual([201, ...Array<string>(11).fill('409 EMAIL_TAKEN')]);
    const winner = responses.find((r) => r.statusCode === 201)!.json().username as string;
    // The losers released the usernames they had claimed.
    const other = responses.map((r, i) => `mailer-${i}`).find((username) => username !== winner)!;
    expect((await signup(other, 'mailer-late@example.com')).statusCode).toBe(201);
  });
});

describe('concurrent e-mail changes', () => {
  it('give a new address to exactly one account', async () => {
    const jwts = await Promise.all(['switcher-a', 'switcher-b', 'switcher-c'].map(async (username) => {
      expect((await signup(username, `${username}@example.com`)).statusCode).toBe(201);
      return (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: username, password } })).json().accessToken as string;
    }));
    const responses = await Promise.all(jwts.map((jwt) =>
      app.inject({ method: 'PATCH', url: '/api/v1/user', headers: bearer(jwt), payload: { currentPassword: password, email: 'wanted@example.com' } })));
    expect(outcomes(responses).map(String)).toEqual(['200', '409 EMAIL_TAKEN', '409 EMAIL_TAKEN']);
  });
});

describe('concurrent API token creates', () => {
  it('never hold more than 50 tokens between them, and a revoke frees a place', async () => {
    expect((await signup('hoarder', 'hoarder@example.com')).statusCode).toBe(201);
    const jwt = (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'hoarder', password } })).json().accessToken as string;
    const create = (name: string) => app.inject({ method: 'POST', url: '/api/v1/user/tokens', headers: bearer(jwt), payload: { name } });

    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => create(`token ${i}`)));
    expect(outcomes(responses)).toEqual([...Array<number>(49).fill(201), ...Array<string>(11).fill('400 TOO_MANY_TOKENS')]);
    const refused = responses.find((r) => r.statusCode === 400)!.json();
    expect(refused.message).toBe('An account can hold 50 API tokens; revoke one first.');

    const list = (await app.inject({ url: '/api/v1/user/tokens', headers: bearer(jwt) })).json() as { id: string; name: string }[];
    expect(list).toHaveLength(50);
    expect(list[0]!.name).toBe('default');
    const { userId } = (await app.db.collection<{ _id: string; userId: unknown }>('usernames').findOne({ _id: 'hoarder' }))!;
    expect(await app.db.collection('apitokens').countDocuments({ userId })).toBe(50);

    expect((await create('one too many')).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/user/tokens/${list[1]!.id}`, headers: bearer(jwt) })).statusCode).toBe(204);
    expect((await create('in its place')).statusCode).toBe(201);
  });
});

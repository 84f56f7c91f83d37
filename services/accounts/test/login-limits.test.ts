import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LoginThrottle } from '../src/domain/login-throttle.js';
import { accountsOptions, buildAccountsApp } from './accounts-app.js';

/**
 * Issue 17: many people behind one NAT address. Only failures count, per
 * address (logins and token exchanges apart) and per account; a refusal is a
 * 429 with Retry-After, a code and a sentence, and changes nothing.
 */
const options = accountsOptions({ loginLimits: { perAddress: 30, perAccount: 5, windowSeconds: 600 } });
let app: Awaited<ReturnType<typeof buildAccountsApp>>;
const password = 'correct horse battery';
const apiTokens: Record<string, string> = {};

beforeAll(async () => {
  app = await buildAccountsApp(options);
  for (const username of ['office', 'colleague', 'victim', 'cli']) {
    const response = await app.inject({ method: 'POST', url: '/api/v1/users', payload: { username, email: `${username}@example.com`, password, passwordConfirmation: password } });
    expect(response.statusCode).toBe(201);
    apiTokens[username] = response.json().apiToken;
  }
});
afterAll(async () => {
  await app?.close();
});

const login = (remoteAddress: string, loginName: string, pass = password, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, headers, payload: { login: loginName, password: pass } });
const exchange = (remoteAddress: string, token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/token', remoteAddress, headers: { authorization: `Token ${token}` } });
const wrongToken = (i: number) => `tmx_${String(i).padStart(40, 'Z')}`;

type Response = Awaited<ReturnType<typeof login>>;
function expectRefused(response: Response, sentence: RegExp) {
  expect(response.statusCode).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
  expect(response.json()).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    code: 'TOO_MANY_ATTEMPTS',
    message: expect.stringMatching(new RegExp(`${sentence.source}; try again in ${retryAfter} seconds\\.$`)),
    retryAfter,
  });
}

describe('password logins', () => {
  it('lets 35 successful logins from one address through, for one account and for two', async () => {
    for (let i = 0; i < 35; i += 1) {
      const response = await login('203.0.113.7', i % 2 ? 'office' : 'colleague');
      expect({ i, status: response.statusCode }).toEqual({ i, status: 200 });
    }
  });

  it('after 30 wrong passwords from one address, refuses the 31st for any account, a correct password included', async () => {
    for (let i = 0; i < 30; i += 1) {
      // A different account each time: the per-account limit (5) never comes into it.
      const response = await login('198.51.100.9', `guess-${i}`, 'not the password');
      expect({ i, status: response.statusCode }).toEqual({ i, status: 401 });
    }
    expectRefused(await login('198.51.100.9', 'victim'), /^Too many failed logins came from your network address/);
    expectRefused(await login('198.51.100.9', 'someone-new', 'not the password'), /^Too many failed logins came from your network address/);
    // The same address arriving through the gateway (a trusted private hop with X-Forwarded-For) is the same address.
    expectRefused(await login('10.0.0.5', 'office', password, { 'x-forwarded-for': '198.51.100.9' }), /^Too many failed logins came from your network address/);
  });

  it('leaves other addresses alone, and the refusals counted nothing', async () => {
    expect((await login('203.0.113.7', 'victim')).statusCode).toBe(200);
    expect((await login('203.0.113.8', 'guess-0', 'not the password')).statusCode).toBe(401);
    expect((await login('10.0.0.5', 'office', password, { 'x-forwarded-for': '203.0.113.99' })).statusCode).toBe(200);
    // someone-new was refused above, not counted: its own budget of 5 is untouched.
    for (let i = 0; i < 5; i += 1) expect((await login(`192.0.2.${i + 1}`, 'someone-new', 'not the password')).statusCode).toBe(401);
    expectRefused(await login('192.0.2.100', 'someone-new', 'not the password'), /^Too many failed logins were tried on this account/);
  });

  it('refuses a correct password once the account is locked by failures from anywhere, and only for that account', async () => {
    for (let i = 0; i < 5; i += 1) expect((await login(`192.0.2.${10 + i}`, 'victim', 'not the password')).statusCode).toBe(401);
    expectRefused(await login('192.0.2.50', 'victim'), /^Too many failed logins were tried on this account/);
    expectRefused(await login('192.0.2.50', ' Victim'), /^Too many failed logins were tried on this account/);
    expect((await login('192.0.2.50', 'office')).statusCode).toBe(200);
  });

  it('neither counts a success against its address nor lets it wipe the failures before it', async () => {
    for (let i = 0; i < 29; i += 1) expect((await login('198.51.100.20', `spray-${i}`, 'not the password')).statusCode).toBe(401);
    expect((await login('198.51.100.20', 'office')).statusCode).toBe(200);
    expect((await login('198.51.100.20', 'spray-29', 'not the password')).statusCode).toBe(401);
    expectRefused(await login('198.51.100.20', 'office'), /^Too many failed logins came from your network address/);
  });

  it('counts a guess from the moment it starts: of 40 at once, 30 are checked and 10 refused', async () => {
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => login('198.51.100.30', `burst-${i}`, 'not the password')));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });
});

describe('API token exchange', () => {
  it('lets 35 valid exchanges from one address through', async () => {
    for (let i = 0; i < 35; i += 1) {
      const response = await exchange('203.0.113.7', apiTokens.cli!);
      expect({ i, status: response.statusCode }).toEqual({ i, status: 200 });
    }
  });

  it('after 30 invalid tokens from one address, refuses the 31st, a valid token included, and changes nothing', async () => {
    for (let i = 0; i < 30; i += 1) {
      const response = await exchange('198.51.100.40', i % 3 ? wrongToken(i) : 'tmx_short');
      expect({ i, status: response.statusCode, code: response.json().code }).toEqual({ i, status: 401, code: 'INVALID_API_TOKEN' });
    }
    const before = await app.db.collection('apitokens').findOne({ hint: `tmx_…${apiTokens.office!.slice(-4)}` });
    expectRefused(await exchange('198.51.100.40', apiTokens.office!), /^Too many invalid API tokens came from your network address/);
    expectRefused(await exchange('198.51.100.40', wrongToken(99)), /^Too many invalid API tokens came from your network address/);
    const after = await app.db.collection('apitokens').findOne({ _id: before!._id });
    expect(after!.lastUsedAt).toEqual(before!.lastUsedAt);
  });

  it('leaves other addresses alone, and keeps token failures and login failures apart', async () => {
    expect((await exchange('203.0.113.7', apiTokens.office!)).statusCode).toBe(200);
    expect((await exchange('203.0.113.8', wrongToken(1))).statusCode).toBe(401);
    // The address locked for token exchange may still sign in with a password, and vice versa.
    expect((await login('198.51.100.40', 'office')).statusCode).toBe(200);
    expect((await exchange('198.51.100.9', apiTokens.office!)).statusCode).toBe(200);
  });
});

describe('LoginThrottle', () => {
  it('counts within a window, takes an attempt back once only and only from its own window', () => {
    const throttle = new LoginThrottle(2, 10_000);
    const t0 = 1_000_000;
    const old = throttle.attempt('a', t0);
    const success = throttle.attempt('a', t0);
    expect(throttle.retryAfter('a', t0)).toBe(10);
    success.takeBack();
    success.takeBack();
    expect(throttle.retryAfter('a', t0 + 1)).toBe(0);
    throttle.attempt('a', t0 + 4_000);
    expect(throttle.retryAfter('a', t0 + 4_000)).toBe(6);
    expect(throttle.retryAfter('b', t0 + 4_000)).toBe(0);
    expect(throttle.retryAfter('a', t0 + 10_000)).toBe(0);
    throttle.attempt('a', t0 + 10_000);
    throttle.attempt('a', t0 + 10_001);
    old.takeBack(); // from the window that ended: the new one keeps its count
    expect(throttle.retryAfter('a', t0 + 10_002)).toBe(10);
  });
});

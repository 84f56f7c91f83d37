import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateSshKey, ndjsonLines } from '@tmuxme/testing';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/** The key snapshot a tunnel box converges from: services only, every live key, in one stream. */
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

  it('streams every live key and leaves removed ones out', async () => {
    const auth = await bearerFor({ userId: 'u-ivan', username: 'ivan' });
    const added: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const key = await generateSshKey('ed25519');
      const response = await app.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key: key.publicKey } });
      added.push(response.json().id);
    }
    await app.inject({ method: 'DELETE', url: `/api/v1/user/keys/${added[2]}`, headers: auth });

    const { items: all, end } = ndjsonLines((await snapshot()).body);
    expect(end).toEqual({ end: true, count: 4 });
    expect(all.map((k) => k.keyId).sort()).toEqual(added.filter((_, i) => i !== 2).sort());
    expect(all[0]).toMatchObject({ userId: 'u-ivan', username: 'ivan', type: 'ssh-ed25519', key: expect.stringMatching(/^ssh-ed25519 AAAA/) });
  });
});

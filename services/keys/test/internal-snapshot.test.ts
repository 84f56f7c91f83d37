import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, generateSshKey } from '@tmuxme/testing';
import { bearerFor, buildKeysApp, keysOptions } from './keys-app.js';

/** The key snapshot a tunnel box converges from: services only, every live key, a page at a time in key id order. */
const serviceToken = 'a-service-credential-of-some-length';
const options = keysOptions({ serviceToken });
let app: Awaited<ReturnType<typeof buildKeysApp>>;
/** Another replica on the same database and exchange. */
let other: Awaited<ReturnType<typeof buildKeysApp>>;

beforeAll(async () => {
  [app, other] = await Promise.all([buildKeysApp(options), buildKeysApp(options)]);
});
afterAll(async () => {
  await Promise.all([app?.close(), other?.close()]);
});

interface Item { keyId: string; userId: string; username: string; type: string; key: string; fingerprint: string }

const snapshot = (query = '', authorization = `Service ${serviceToken}`) =>
  app.inject({ url: `/internal/v1/snapshot/keys${query}`, headers: { authorization } });

/** Every page, following `next` until it is null. */
async function allPages(limit?: number) {
  const pages: { items: Item[]; next: string | null }[] = [];
  let after: string | null | undefined;
  do {
    const query = new URLSearchParams({ ...(after ? { after } : {}), ...(limit ? { limit: String(limit) } : {}) });
    const response = await snapshot(`?${query}`);
    expect(response.statusCode).toBe(200);
    pages.push(response.json());
    after = pages.at(-1)!.next;
  } while (after !== null);
  return { pages, items: pages.flatMap((page) => page.items) };
}

async function addKey(on: typeof app, auth: { authorization: string }) {
  const response = await on.inject({ method: 'POST', url: '/api/v1/user/keys', headers: auth, payload: { key: (await generateSshKey('ed25519')).publicKey } });
  expect(response.statusCode).toBe(201);
  return response.json().id as string;
}

describe('key snapshot', () => {
  it('refuses callers without the service credential', async () => {
    for (const authorization of ['', 'Service wrong-credential-of-length', `Bearer ${serviceToken}`, `Service ${serviceToken}x`]) {
      const response = await snapshot('', authorization);
      expect(response.json()).toMatchObject({ statusCode: 401, code: 'SERVICE_CREDENTIAL_REQUIRED' });
    }
    const user = await bearerFor({ userId: 'u-x', username: 'x' });
    expect((await app.inject({ url: '/internal/v1/snapshot/keys', headers: user })).statusCode).toBe(401);
  });

  it('refuses a bad cursor or page size with a code', async () => {
    for (const query of ['?after=zz', '?after=', `?after=${'A'.repeat(24)}`, '?limit=0', '?limit=10001', '?limit=two', '?limit=1.5', '?other=1']) {
      const response = await snapshot(query);
      expect({ query, status: response.statusCode }).toEqual({ query, status: 400 });
      expect(response.json().code).toEqual(expect.any(String));
    }
  });

  it('lists every live key in id order, a page at a time, and leaves removed ones out', async () => {
    const auth = await bearerFor({ userId: 'u-ivan', username: 'ivan' });
    const added: string[] = [];
    for (let i = 0; i < 5; i += 1) added.push(await addKey(app, auth));
    await app.inject({ method: 'DELETE', url: `/api/v1/user/keys/${added[2]}`, headers: auth });
    const live = added.filter((_, i) => i !== 2).sort();

    const whole = await allPages();
    expect(whole.pages).toHaveLength(1);
    expect(whole.items.map((k) => k.keyId)).toEqual(live);
    expect(whole.items[0]).toEqual({
      keyId: live[0], userId: 'u-ivan', username: 'ivan', type: 'ssh-ed25519', key: expect.stringMatching(/^ssh-ed25519 AAAA/), fingerprint: expect.stringMatching(/^SHA256:/),
    });

    const paged = await allPages(2);
    expect(paged.pages.map((page) => page.items.length)).toEqual([2, 2, 0]);
    expect(paged.pages.map((page) => page.next)).toEqual([live[1], live[3], null]);
    expect(paged.items).toEqual(whole.items);
    expect((await snapshot(`?after=${live[2]}&limit=5`)).json()).toEqual({ items: whole.items.slice(3), next: null });
  });

  it("shows a key another replica added once its event arrives, and drops it once removed there", async () => {
    const auth = await bearerFor({ userId: 'u-judy', username: 'judy' });
    const keyId = await addKey(other, auth);
    await eventually(async () => (await allPages()).items.some((k) => k.keyId === keyId));
    expect((await allPages()).items.find((k) => k.keyId === keyId)).toMatchObject({ userId: 'u-judy', username: 'judy' });
    expect((await app.inject({ url: '/api/v1/users/judy/keys.json' })).json().map((k: { id: string }) => k.id)).toEqual([keyId]);

    expect((await other.inject({ method: 'DELETE', url: `/api/v1/user/keys/${keyId}`, headers: auth })).statusCode).toBe(204);
    await eventually(async () => !(await allPages()).items.some((k) => k.keyId === keyId));
    expect((await app.inject({ url: '/api/v1/users/judy/keys.json' })).json()).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKey, testAmqpUrl } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/** The web pages' way in, over real HTTP as a browser does it: cookies from Set-Cookie, the CSRF token echoed by script. */
let stack: Stack;
let api: ApiClient;
let webRoot: string;
const indexHtml = '<!doctype html><title>tmux.me</title>';

beforeAll(async () => {
  webRoot = await mkdtemp(join(tmpdir(), 'tmuxme-e2e-web-'));
  await mkdir(join(webRoot, 'assets'));
  await writeFile(join(webRoot, 'index.html'), indexHtml);
  stack = await startStack({ mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), webRoot });
  api = new ApiClient(stack.gatewayUrl);
});
afterAll(async () => {
  await stack?.close();
  if (webRoot) await rm(webRoot, { recursive: true, force: true });
});

/** What a browser would keep from Set-Cookie: name → value, cleared cookies dropped. */
function jar(headers: Headers, cookies: Map<string, string> = new Map()) {
  for (const line of headers.getSetCookie()) {
    const [pair] = line.split(';');
    const [name, value] = pair!.split('=') as [string, string];
    if (/max-age=0/i.test(line)) cookies.delete(name);
    else cookies.set(name, value);
  }
  return cookies;
}
const cookieHeader = (cookies: Map<string, string>) => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');

describe('the web pages through the gateway', () => {
  it('serves the page with its security policy', async () => {
    const page = await fetch(`${stack.gatewayUrl}/keys`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(indexHtml);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('signs in, adds a key only with the CSRF token, and signs out', async () => {
    const signup = await api.request('POST', '/api/v1/users', {
      username: 'webby', email: 'webby@example.com', password: 'correct horse battery', passwordConfirmation: 'correct horse battery',
    });
    expect(signup.status).toBe(201);
    const origin = new URL(stack.gatewayUrl).origin;
    const signIn = await api.request('POST', '/web/v1/session', { login: 'webby', password: 'correct horse battery' }, { origin });
    expect(signIn.json).toEqual({ username: 'webby' });
    const cookies = jar(signIn.headers);
    expect([...cookies.keys()]).toEqual(['tmuxme_session', 'tmuxme_csrf']);
    const browser = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      api.request(method, path, body, { cookie: cookieHeader(cookies), origin, ...headers });

    expect((await browser('GET', '/web/v1/session')).json).toEqual({ username: 'webby' });
    const key = await generateSshKey('ed25519');
    const forged = await browser('POST', '/api/v1/user/keys', { key: key.publicKey });
    expect(forged.json).toMatchObject({ statusCode: 403, code: 'CSRF_TOKEN_MISSING' });
    expect((await api.request('GET', '/api/v1/users/webby/keys.json')).json).toEqual([]);
    const added = await browser('POST', '/api/v1/user/keys', { key: key.publicKey }, { 'x-csrf-token': cookies.get('tmuxme_csrf')! });
    expect(added.status).toBe(201);
    expect((await api.request('GET', '/api/v1/users/webby/keys.json')).json).toMatchObject([{ fingerprint: key.fingerprint }]);

    const signOut = await browser('DELETE', '/web/v1/session');
    expect(signOut.status).toBe(204);
    expect(jar(signOut.headers, cookies).size).toBe(0);
    expect((await browser('GET', '/web/v1/session')).json).toMatchObject({ statusCode: 401, code: 'NOT_SIGNED_IN' });
  });
});

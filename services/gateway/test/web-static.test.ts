import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '@tmuxme/testing';
import type { Server } from '@tmuxme/service-kit';
import gatewayApp from '../src/app.js';
import { contentSecurityPolicy } from '../src/plugins/security-headers.js';
import { startUpstreams, type Upstreams } from './upstreams.js';

const indexHtml = '<!doctype html><title>tmux.me</title><script type="module" src="/assets/app-abc123.js"></script>';
const appJs = 'console.log("tmux.me");\n';
const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

let upstreams: Upstreams;
let folder: string;
let gateway: Server;

beforeAll(async () => {
  upstreams = await startUpstreams();
  // The pages sit one level down so that a file beside them stands for everything outside the root.
  folder = await mkdtemp(join(tmpdir(), 'tmuxme-web-'));
  const webRoot = join(folder, 'dist');
  await mkdir(join(webRoot, 'assets'), { recursive: true });
  await writeFile(join(webRoot, 'index.html'), indexHtml);
  await writeFile(join(webRoot, 'assets', 'app-abc123.js'), appJs);
  await writeFile(join(webRoot, '.env'), 'SECRET=dotfile');
  await writeFile(join(folder, 'outside.txt'), 'SECRET=outside');
  gateway = await buildApp(gatewayApp, { upstreams: upstreams.urls, webRoot }, { trustRequestId: false });
});
afterAll(async () => {
  await gateway?.close();
  await upstreams?.close();
  if (folder) await rm(folder, { recursive: true, force: true });
});

function expectSecurityHeaders(headers: Record<string, unknown>) {
  expect(headers).toMatchObject({
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
  });
  expect(headers['strict-transport-security']).toBeUndefined();
}

describe('the web pages', () => {
  it('serves index.html at / for revalidation on every load, with the strict headers', async () => {
    const response = await gateway.inject({ url: '/', headers: html });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(indexHtml);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(response.headers);
    expect(contentSecurityPolicy).toBe("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
      + "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
    const head = await gateway.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('lets browsers keep hashed assets for a year, and answers a revalidation with 304', async () => {
    const response = await gateway.inject({ url: '/assets/app-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(appJs);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await gateway.inject({ url: '/assets/app-abc123.js', headers: { 'if-none-match': String(response.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('answers the app\'s own routes with index.html when a browser navigates to them', async () => {
    for (const path of ['/keys', '/keys/abc', '/settings?tab=tokens']) {
      const response = await gateway.inject({ url: path, headers: html });
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe(indexHtml);
      expect(response.headers['cache-control']).toBe('no-cache');
    }
  });

  it.each([
    ['/api/v1/nope', html],
    ['/web/v1/nope', html],
    ['/internal/v1/snapshot/keys', html],
    ['/keys', { accept: 'application/json' }],
    ['/assets/app-gone.js', { accept: '*/*' }],
  ])('never falls back for %s (%j): a JSON 404 with a code', async (path, headers) => {
    const response = await gateway.inject({ url: path, headers });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: expect.any(String) });
    expectSecurityHeaders(response.headers);
  });

  it.each([
    '/.env', '/%2e%2e/outside.txt', '/..%2foutside.txt', '/assets/..%2f..%2foutside.txt', '/%E0%A4%A', '/assets/%00app-abc123.js',
  ])('serves nothing it should not for %s', async (path) => {
    for (const headers of [html, { accept: '*/*' }]) {
      const response = await gateway.inject({ url: path, headers });
      expect(response.body).not.toContain('SECRET');
      if (response.statusCode !== 200) expect(response.json()).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      else expect(response.body).toBe(indexHtml);
    }
  });

  it('refuses an unsatisfiable range with a code', async () => {
    const response = await gateway.inject({ url: '/assets/app-abc123.js', headers: { range: 'bytes=99999-' } });
    expect(response.statusCode).toBe(416);
    expect(response.json()).toMatchObject({ code: 'RANGE_NOT_SATISFIABLE', message: expect.any(String) });
  });

  it('puts the security headers on the API\'s answers too, and HSTS only over https', async () => {
    const api = await gateway.inject({ url: '/api/v1/user' });
    expect(api.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
    expectSecurityHeaders(api.headers);
    expectSecurityHeaders((await gateway.inject({ url: '/healthz' })).headers);
    expectSecurityHeaders((await gateway.inject({ method: 'POST', url: '/' })).headers);

    const behindProxy = await buildApp(gatewayApp, { upstreams: upstreams.urls, trustProxy: true }, { trustRequestId: false });
    try {
      const page = await behindProxy.inject({ url: '/api/v1/user', headers: { 'x-forwarded-proto': 'https' } });
      expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    } finally {
      await behindProxy.close();
    }
  });
});

describe('before the web pages are built', () => {
  it('still starts: pages answer a plain 503 that says how to build them, the API works', async () => {
    const unbuilt = await buildApp(gatewayApp, { upstreams: upstreams.urls, webRoot: join(folder, 'no-such-dist') }, { trustRequestId: false });
    try {
      for (const [path, headers] of [['/', {}], ['/keys', html]] as const) {
        const page = await unbuilt.inject({ url: path, headers });
        expect(page.statusCode).toBe(503);
        expect(page.headers['content-type']).toMatch(/^text\/html/);
        expect(page.body).toContain('npm run build -w @tmuxme/web');
        expectSecurityHeaders(page.headers);
      }
      expect((await unbuilt.inject({ url: '/api/v1/nope', headers: html })).json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      expect((await unbuilt.inject({ url: '/api/v1/user' })).json()).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
    } finally {
      await unbuilt.close();
    }
  });
});

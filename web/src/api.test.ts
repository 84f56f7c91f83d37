import { describe, expect, it, jest } from '@jest/globals';
import { ApiError, createHttpApi, readCookie, watchSessionExpiry } from './api.js';

type Call = [string, RequestInit];

/** jsdom has no Response; the client reads only these members of one. */
function reply(status: number, body?: unknown, statusText = ''): Response {
  return {
    ok: status >= 200 && status < 300, status, statusText,
    json: async () => (typeof body === 'string' ? JSON.parse(body) : body),
  } as Response;
}

function server(status: number, body?: unknown) {
  return jest.fn(async (_path: string, _init: RequestInit) => reply(status, body));
}

describe('the HTTP api client', () => {
  it('sends the CSRF cookie as x-csrf-token on writes, with the session cookie', async () => {
    const fetch = server(201, { id: 'k1' });
    const api = createHttpApi({ fetch: fetch as typeof globalThis.fetch, cookies: () => 'other=1; tmuxme_csrf=abc%3D123' });
    await api.addKey({ key: 'ssh-ed25519 AAAA' });

    const [path, init] = fetch.mock.calls[0] as Call;
    expect(path).toBe('/api/v1/user/keys');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
    expect(init.headers).toMatchObject({ 'x-csrf-token': 'abc=123', 'content-type': 'application/json' });
    expect(JSON.parse(init.body as string)).toEqual({ key: 'ssh-ed25519 AAAA' });
  });

  it('sends no CSRF header on reads', async () => {
    const fetch = server(200, []);
    await createHttpApi({ fetch: fetch as typeof globalThis.fetch, cookies: () => 'tmuxme_csrf=abc' }).listKeys();
    expect((fetch.mock.calls[0] as Call)[1].headers).not.toHaveProperty('x-csrf-token');
  });

  it('turns an error body into an ApiError with code, field and message', async () => {
    const fetch = server(400, { statusCode: 400, error: 'Bad Request', code: 'INVALID_KEY', message: 'That is two keys; add them one at a time.', field: 'key' });
    const failure = createHttpApi({ fetch: fetch as typeof globalThis.fetch, cookies: () => '' }).addKey({ key: 'x' });
    await expect(failure).rejects.toEqual(new ApiError(400, 'INVALID_KEY', 'That is two keys; add them one at a time.', 'key'));
    await expect(failure).rejects.toMatchObject({ statusCode: 400, field: 'key' });
  });

  it('explains a response without an error body', async () => {
    const fetch = jest.fn(async () => reply(502, '<html>bad gateway</html>', 'Bad Gateway'));
    const failure = createHttpApi({ fetch: fetch as typeof globalThis.fetch, cookies: () => '' }).listKeys();
    await expect(failure).rejects.toMatchObject({ code: 'HTTP_502', message: 'The server answered 502 Bad Gateway; try again shortly.' });
  });

  it('reads a 401 on GET /web/v1/session as logged out, and a 204 as no body', async () => {
    const api = createHttpApi({ fetch: server(401, { code: 'UNAUTHENTICATED', message: 'Log in.' }) as typeof globalThis.fetch, cookies: () => '' });
    expect(await api.getSession()).toBeNull();
    const fetch = server(204);
    expect(await createHttpApi({ fetch: fetch as typeof globalThis.fetch, cookies: () => '' }).logout()).toBeUndefined();
    expect((fetch.mock.calls[0] as Call)).toEqual(['/web/v1/session', expect.objectContaining({ method: 'DELETE' })]);
  });

  it('escapes ids in paths', async () => {
    const fetch = server(204);
    await createHttpApi({ fetch: fetch as typeof globalThis.fetch, cookies: () => '' }).revokeToken('../user');
    expect((fetch.mock.calls[0] as Call)[0]).toBe('/api/v1/user/tokens/..%2Fuser');
  });
});

describe('watchSessionExpiry', () => {
  it('reports a 401 from a signed-in call, but not a wrong password at login', async () => {
    const expired = jest.fn();
    const api = watchSessionExpiry(createHttpApi({ fetch: server(401, { code: 'INVALID_CREDENTIALS', message: 'No.' }) as typeof globalThis.fetch, cookies: () => '' }), expired);
    await expect(api.login('ada', 'wrong')).rejects.toBeInstanceOf(ApiError);
    expect(expired).not.toHaveBeenCalled();
    await expect(api.listKeys()).rejects.toBeInstanceOf(ApiError);
    expect(expired).toHaveBeenCalledTimes(1);
  });
});

describe('readCookie', () => {
  it('finds a cookie among others and decodes it', () => {
    expect(readCookie('a=1; tmuxme_csrf=x%20y; b=2', 'tmuxme_csrf')).toBe('x y');
    expect(readCookie('a=1', 'tmuxme_csrf')).toBeUndefined();
  });
});

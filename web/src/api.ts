/**
 * The pages' only way to the server: the gateway's /web/v1/session for the cookie
 * session and the public /api/v1 (docs/architecture.md §3), with the same cookie.
 */

import type { PairingSession } from '@tmuxme/api-types';

export interface Account { username: string; email: string; createdAt: string }
export interface SignupInput { username: string; email: string; password: string; passwordConfirmation: string }
export interface SignupResult { username: string; email: string; apiToken: string }
export interface AccountChange { currentPassword: string; email?: string; password?: string }
export interface ApiToken { id: string; name: string; hint: string; createdAt: string; lastUsedAt: string | null }
export interface NewApiToken { id: string; name: string; token: string }
export interface SshKey { id: string; title: string; type: string; key: string; fingerprint: string; createdAt: string }
export type { PairingSession };
export interface WebSession { username: string }

/** A type alias rather than an interface so that wrappers can map over its methods. */
export type Api = {
  getSession(): Promise<WebSession | null>;
  login(login: string, password: string): Promise<WebSession>;
  logout(): Promise<void>;
  signup(input: SignupInput): Promise<SignupResult>;
  getAccount(): Promise<Account>;
  updateAccount(change: AccountChange): Promise<Account>;
  deleteAccount(password: string): Promise<void>;
  listTokens(): Promise<ApiToken[]>;
  createToken(name: string): Promise<NewApiToken>;
  revokeToken(id: string): Promise<void>;
  listKeys(): Promise<SshKey[]>;
  addKey(input: { title?: string; key: string }): Promise<SshKey>;
  removeKey(id: string): Promise<void>;
  listSessions(): Promise<PairingSession[]>;
};

/** The server's error body, `{statusCode, code, message, field?}`, as something to throw and catch. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const csrfCookie = 'tmuxme_csrf';

export function readCookie(cookies: string, name: string): string | undefined {
  for (const pair of cookies.split(';')) {
    const [key, ...value] = pair.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

async function toApiError(response: Response): Promise<ApiError> {
  const body = await response.json().catch(() => null) as Partial<Record<'code' | 'message' | 'field', unknown>> | null;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  return new ApiError(
    response.status,
    text(body?.code) ?? 'HTTP_' + response.status,
    text(body?.message) ?? `The server answered ${response.status} ${response.statusText}; try again shortly.`,
    text(body?.field),
  );
}

export interface HttpApiOptions {
  fetch?: typeof fetch;
  /** Where the CSRF cookie is read; `document.cookie` in the browser. */
  cookies?: () => string;
}

export function createHttpApi(options: HttpApiOptions = {}): Api {
  const send = options.fetch ?? ((input, init) => fetch(input, init));
  const cookies = options.cookies ?? (() => document.cookie);

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    // The session cookie rides along by itself; the CSRF token proves the page, not another site, asked.
    const csrf = readCookie(cookies(), csrfCookie);
    if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
    let response: Response;
    try {
      response = await send(path, {
        method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'The server could not be reached; check your connection and try again.');
    }
    if (!response.ok) throw await toApiError(response);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  const id = (value: string) => encodeURIComponent(value);
  return {
    async getSession() {
      try {
        return await request<WebSession>('GET', '/web/v1/session');
      } catch (error) {
        if (error instanceof ApiError && error.statusCode === 401) return null;
        throw error;
      }
    },
    login: (login, password) => request('POST', '/web/v1/session', { login, password }),
    logout: () => request('DELETE', '/web/v1/session'),
    signup: (input) => request('POST', '/api/v1/users', input),
    getAccount: () => request('GET', '/api/v1/user'),
    updateAccount: (change) => request('PATCH', '/api/v1/user', change),
    deleteAccount: (password) => request('DELETE', '/api/v1/user', { password }),
    listTokens: () => request('GET', '/api/v1/user/tokens'),
    createToken: (name) => request('POST', '/api/v1/user/tokens', { name }),
    revokeToken: (tokenId) => request('DELETE', `/api/v1/user/tokens/${id(tokenId)}`),
    listKeys: () => request('GET', '/api/v1/user/keys'),
    addKey: (input) => request('POST', '/api/v1/user/keys', input),
    removeKey: (keyId) => request('DELETE', `/api/v1/user/keys/${id(keyId)}`),
    listSessions: () => request('GET', '/api/v1/pairing/sessions'),
  };
}

/**
 * Calls `expired` when a signed-in call is answered 401, so the app can send the
 * person to the login page once their cookie has run out. Logging in is left alone:
 * its 401 means a wrong password.
 */
export function watchSessionExpiry(api: Api, expired: () => void): Api {
  const watched = { ...api };
  for (const name of Object.keys(api) as (keyof Api)[]) {
    if (name === 'login' || name === 'getSession') continue;
    const call = api[name] as (...args: unknown[]) => Promise<unknown>;
    (watched as Record<keyof Api, unknown>)[name] = (...args: unknown[]) => call(...args).catch((error: unknown) => {
      if (error instanceof ApiError && error.statusCode === 401) expired();
      throw error;
    });
  }
  return watched;
}

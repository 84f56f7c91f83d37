import type { GuestAccess, PairingSession } from '@tmuxme/api-types';
import { httpRequestText, type HttpAnswer } from './http-request.js';

/** A refusal from the server, or the server out of reach, in words a user can act on. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

// Shapes as the services' route schemas declare them (services/*/src/routes).
export interface AccessToken { accessToken: string; tokenType: 'Bearer'; expiresIn: number }
export interface SignupInput { username: string; email: string; password: string; passwordConfirmation: string }
export interface SignedUp { username: string; email: string; apiToken: string }
export interface Account { username: string; email: string; createdAt: string }
export interface ApiTokenSummary { id: string; name: string; hint: string; createdAt: string; lastUsedAt: string | null }
export interface CreatedApiToken { id: string; name: string; token: string }
export interface SshKey { id: string; title: string; type: string; key: string; fingerprint: string; createdAt: string }
export interface PublicKey { id: string; type: string; key: string; fingerprint: string }
export interface PortLease {
  port: number;
  tunnelHost: string;
  tunnelPort: number;
  tunnelHostKey: string;
  leaseId: string;
  expiresAt: string;
  /** A private lease may only be bound to the box's loopback: guests reach it through the jump user alone. */
  private: boolean;
  /** The box account the host logs in as for this lease: `tunnel`, or `tunnel-private` for a private lease. */
  tunnelUser: string;
  /** The tunnel box the port is on (`box-1`): one port number may be leased on two boxes. Servers with one box name none. */
  boxId?: string;
}
export interface LeaseRequest {
  /** A port the box binds to its loopback only, reachable through the jump user alone. */
  private?: boolean;
  /** A box other than this one: the one a session moves away from. */
  avoidBox?: string;
}
export type GuestInput = string | { username: string; access?: GuestAccess };
/**
 * `private` must match the lease's, or the server refuses the session (PRIVATE_MISMATCH). `leaseId` says which box's
 * port is meant, since one port number may be leased on two boxes.
 */
export interface SessionInput { port: number; guests: GuestInput[]; hostKey?: string; private?: boolean; leaseId?: string }
export type { GuestAccess, PairingSession };

export interface ApiClientOptions {
  /** The server's base URL, e.g. https://tmux.me (no trailing slash). */
  server: string;
  apiToken?: string;
  timeoutMs?: number;
}

interface RequestOptions {
  body?: unknown;
  authorization?: string;
  /** A 401 on a signed-in request means the stored login is no good: say how to get a new one. */
  signedIn?: boolean;
}

const loginHint = 'Run `tmuxme login` to sign in again.';

/**
 * The public JSON API (docs/architecture.md §3), over kept-alive HTTP connections. An API token is exchanged for a
 * short-lived access token (JWT) on first use, and again only shortly before that one expires.
 */
export class TmuxmeApi {
  readonly server: string;
  private readonly apiToken?: string;
  private readonly timeoutMs: number;
  private access?: { token: string; renewAt: number };
  private renewal?: Promise<string>;

  constructor({ server, apiToken, timeoutMs = 30_000 }: ApiClientOptions) {
    this.server = server;
    this.apiToken = apiToken;
    this.timeoutMs = timeoutMs;
  }

  signup(input: SignupInput): Promise<SignedUp> {
    return this.send('POST', '/api/v1/users', { body: input });
  }

  /** Signs this client in by password; the access token is used by the calls that follow. */
  async login(login: string, password: string): Promise<AccessToken> {
    return this.remember(await this.send<AccessToken>('POST', '/api/v1/auth/login', { body: { login, password } }));
  }

  async exchangeApiToken(): Promise<AccessToken> {
    if (!this.apiToken) throw this.notLoggedIn();
    const authorization = `Token ${this.apiToken}`;
    return this.remember(await this.send<AccessToken>('POST', '/api/v1/auth/token', { authorization, signedIn: true }));
  }

  me(): Promise<Account> { return this.signedIn('GET', '/api/v1/user'); }

  listApiTokens(): Promise<ApiTokenSummary[]> { return this.signedIn('GET', '/api/v1/user/tokens'); }
  createApiToken(name: string): Promise<CreatedApiToken> { return this.signedIn('POST', '/api/v1/user/tokens', { name }); }
  revokeApiToken(id: string): Promise<void> { return this.signedIn('DELETE', `/api/v1/user/tokens/${encodeURIComponent(id)}`); }

  listKeys(): Promise<SshKey[]> { return this.signedIn('GET', '/api/v1/user/keys'); }
  addKey(input: { key: string; title?: string }): Promise<SshKey> { return this.signedIn('POST', '/api/v1/user/keys', input); }
  removeKey(id: string): Promise<void> { return this.signedIn('DELETE', `/api/v1/user/keys/${encodeURIComponent(id)}`); }

  publicKeys(username: string): Promise<PublicKey[]> {
    return this.send('GET', `/api/v1/users/${encodeURIComponent(username)}/keys.json`);
  }

  leasePort({ private: isPrivate = false, avoidBox }: LeaseRequest = {}): Promise<PortLease> {
    const query = new URLSearchParams({ ...(isPrivate ? { private: 'true' } : {}), ...(avoidBox ? { avoidBox } : {}) }).toString();
    return this.signedIn('GET', `/api/v1/pairing/port${query ? `?${query}` : ''}`);
  }
  /** For a lease no session was declared on: the port is free again at once, not when the lease expires. */
  giveBackLease(leaseId: string): Promise<void> { return this.signedIn('DELETE', `/api/v1/pairing/port/${encodeURIComponent(leaseId)}`); }
  declareSession(input: SessionInput): Promise<PairingSession> { return this.signedIn('POST', '/api/v1/pairing/sessions', input); }
  listSessions(): Promise<PairingSession[]> { return this.signedIn('GET', '/api/v1/pairing/sessions'); }
  getSession(id: string): Promise<PairingSession> { return this.signedIn('GET', this.sessionPath(id)); }
  heartbeat(id: string): Promise<{ expiresAt: string }> { return this.signedIn('POST', `${this.sessionPath(id)}/heartbeat`); }
  /**
   * Puts the session on another lease of ours, whose tunnel is open already: the same id and guests, a new box and port.
   * The server releases the old lease and mails the guests the new command.
   */
  moveSession(id: string, leaseId: string): Promise<PairingSession> { return this.signedIn('POST', `${this.sessionPath(id)}/move`, { leaseId }); }
  endSession(id: string): Promise<void> { return this.signedIn('DELETE', this.sessionPath(id)); }

  private sessionPath(id: string): string {
    return `/api/v1/pairing/sessions/${encodeURIComponent(id)}`;
  }

  private async signedIn<T>(method: string, path: string, body?: unknown): Promise<T> {
    const authorization = `Bearer ${await this.accessToken()}`;
    return this.send<T>(method, path, { body, authorization, signedIn: true });
  }

  private accessToken(): Promise<string> {
    if (this.access && Date.now() < this.access.renewAt) return Promise.resolve(this.access.token);
    // Calls made at the same moment (a heartbeat and a listing) share one exchange.
    this.renewal ??= this.exchangeApiToken().then(({ accessToken }) => accessToken).finally(() => { this.renewal = undefined; });
    return this.renewal;
  }

  private remember(token: AccessToken): AccessToken {
    const lifetimeMs = token.expiresIn * 1000;
    // Renew a minute early (or halfway, for very short lifetimes) so a request never leaves with a token about to lapse.
    this.access = { token: token.accessToken, renewAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 2) };
    return token;
  }

  private notLoggedIn(): ApiError {
    return new ApiError(401, 'NOT_LOGGED_IN', `You are not logged in to ${this.server}: run \`tmuxme login\` (or \`tmuxme signup\` for a new account).`);
  }

  private async send<T>(method: string, path: string, { body, authorization, signedIn = false }: RequestOptions = {}): Promise<T> {
    let response: HttpAnswer;
    try {
      response = await httpRequestText(new URL(this.server + path), {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authorization ? { authorization } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.timeoutMs,
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    const json = parseJson(response);
    if (response.status < 200 || response.status > 299) throw this.refusal(response, json, signedIn);
    if (response.status === 204) return undefined as T;
    if (json === undefined) {
      throw new ApiError(response.status, 'NOT_A_TMUXME_SERVER', `${this.server} did not answer ${method} ${path} with JSON: is it a tmux.me server? Check --server or TMUXME_SERVER.`);
    }
    return json as T;
  }

  private refusal(response: HttpAnswer, json: unknown, signedIn: boolean): ApiError {
    const hint = response.status === 401 && signedIn ? ` ${loginHint}` : '';
    if (isErrorBody(json)) {
      return new ApiError(response.status, json.code ?? `HTTP_${response.status}`, json.message + hint, errorDetails(json));
    }
    const advice = response.status >= 500 ? 'try again shortly.' : 'is it a tmux.me server? Check --server or TMUXME_SERVER.';
    return new ApiError(response.status, `HTTP_${response.status}`, `${this.server} answered ${response.status} ${response.statusText}: ${advice}${hint}`);
  }

  private unreachable(error: unknown): ApiError {
    const { cause } = error as { cause?: { name?: string; code?: string; message?: string } };
    const reason = cause?.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : cause?.code ?? cause?.message ?? (error as Error).message;
    return new ApiError(0, 'SERVER_UNREACHABLE',
      `Cannot reach the tmux.me server at ${this.server} (${reason}). Check your network, and --server or TMUXME_SERVER if that is not the server you meant.`);
  }
}

function parseJson({ text, contentType }: HttpAnswer): unknown {
  if (!text || !contentType.includes('json')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface ErrorBody { code?: string; message: string; statusCode?: number; error?: string; [detail: string]: unknown }

function isErrorBody(json: unknown): json is ErrorBody {
  const candidate = json as { code?: unknown; message?: unknown } | undefined;
  return typeof candidate?.message === 'string' && (candidate.code === undefined || typeof candidate.code === 'string');
}

/** What a refusal says beyond its code and message, e.g. `field` or `retryAfter`. */
function errorDetails({ code: _code, message: _message, statusCode: _statusCode, error: _error, ...details }: ErrorBody): Record<string, unknown> {
  return details;
}

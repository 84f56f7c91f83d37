/** A small JSON client for the public API, as the CLI and the web pages use it. */
export class ApiClient {
  /** `timeoutMs` bounds every request: a test that must tell a slow answer from a hang fails on it instead of waiting. */
  constructor(readonly baseUrl: string, readonly accessToken?: string, private readonly timeoutMs?: number) {}

  withToken(accessToken: string): ApiClient {
    return new ApiClient(this.baseUrl, accessToken, this.timeoutMs);
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined;
    return { status: response.status, headers: response.headers, text, json };
  }

  /** Signs up and logs in, returning a client that acts as the new user. */
  async signup(username: string, password = 'correct horse battery') {
    const created = await this.request('POST', '/api/v1/users', { username, email: `${username}@example.com`, password, passwordConfirmation: password });
    if (created.status !== 201) throw new Error(`signup ${username}: ${created.status} ${created.text}`);
    const login = await this.request('POST', '/api/v1/auth/login', { login: username, password });
    return { user: this.withToken(login.json.accessToken), apiToken: created.json.apiToken as string };
  }
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ErrorResponse, HttpError, forbidden, unauthorized } from '@tmuxme/service-kit';
import { publicHost } from '../client-transport.js';
import { sessionToken } from '../plugins/cookie-session.js';

export interface WebSessionOptions {
  accountsUrl: string;
  trustProxy: boolean;
}

const Session = Type.Object({ username: Type.String() });
const notSignedIn = () => unauthorized('NOT_SIGNED_IN', 'You are not signed in.');

interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

/** One call to accounts on the private network, carrying the request id and the client's address like the proxy does. */
async function askAccounts(accountsUrl: string, request: FastifyRequest, reply: FastifyReply, path: string, init: { body?: unknown; token?: string }): Promise<Answer> {
  try {
    const response = await fetch(new URL(path, accountsUrl), {
      method: init.body === undefined ? 'GET' : 'POST',
      headers: {
        'x-request-id': request.id,
        'x-forwarded-for': request.ip,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: await response.json() as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
  } catch (error) {
    request.log.warn({ err: error, upstream: 'accounts' }, 'upstream unavailable');
    reply.header('retry-after', '5');
    throw new HttpError(502, 'UPSTREAM_UNAVAILABLE', 'The accounts service is not answering right now; try again shortly.');
  }
}

/** An error accounts answered goes to the browser as it is, so the page shows the same words the CLI would. */
function relayError(reply: FastifyReply, answer: Answer) {
  if (typeof answer.body.code !== 'string') {
    throw new HttpError(502, 'UPSTREAM_UNAVAILABLE', 'The accounts service gave an answer the gateway does not understand.');
  }
  if (answer.retryAfter) reply.header('retry-after', answer.retryAfter);
  return reply.status(answer.status).send(answer.body);
}

// Accounts signed it moments ago on the private network: reading the name needs no verification here.
function usernameIn(accessToken: string): string {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString()) as { username?: unknown };
    if (typeof payload.username === 'string') return payload.username;
  } catch {
    // Reported below like any other token without a name.
  }
  throw new HttpError(502, 'UPSTREAM_UNAVAILABLE', 'The accounts service issued a token without a user name.');
}

/**
 * Sign-in is exempt from the CSRF token (there is no session yet), so it
 * takes only JSON, which a cross-site form cannot send without a CORS
 * preflight the gateway never grants, and refuses a foreign Origin.
 * That keeps another site from signing a visitor into the attacker's account.
 */
function sameOriginJsonOnly(trustProxy: boolean) {
  return async (request: FastifyRequest) => {
    const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the credentials as application/json.');
    const origin = request.headers.origin;
    if (origin === undefined) return;
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      // `Origin: null` (sandboxed frames, some redirects) and garbage both count as foreign.
    }
    if (!host || host !== publicHost(request, trustProxy)) {
      throw forbidden('ORIGIN_MISMATCH', 'This sign-in came from another site; sign in on the tmux.me page itself.');
    }
  };
}

/** The web pages' sign-in, who-am-I and sign-out; the contract is in the gateway's README. */
export const webSessionRoutes: FastifyPluginAsyncTypebox<WebSessionOptions> = async (app, { accountsUrl, trustProxy }) => {
  // Answers name the user and set or clear the session: no cache may keep them.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.post('/web/v1/session', {
    onRequest: sameOriginJsonOnly(trustProxy),
    schema: {
      body: Type.Object({
        login: Type.String({ minLength: 1, maxLength: 254 }),
        password: Type.String({ minLength: 1, maxLength: 256 }),
      }, { additionalProperties: false }),
      response: { 200: Session, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 415: ErrorResponse, 429: ErrorResponse, 502: ErrorResponse, 503: ErrorResponse },
    },
  }, async (request, reply) => {
    const answer = await askAccounts(accountsUrl, request, reply, '/api/v1/auth/login', { body: request.body });
    if (answer.status !== 200) return relayError(reply, answer);
    const { accessToken, expiresIn } = answer.body as { accessToken: string; expiresIn: number };
    reply.startWebSession(accessToken, expiresIn);
    return { username: usernameIn(accessToken) };
  });

  app.get('/web/v1/session', {
    schema: { response: { 200: Session, 401: ErrorResponse, 502: ErrorResponse, 503: ErrorResponse } },
  }, async (request, reply) => {
    const token = sessionToken(request);
    if (!token) throw notSignedIn();
    // Accounts verifies the token and that the account still exists; the gateway holds no key to do either.
    const answer = await askAccounts(accountsUrl, request, reply, '/api/v1/user', { token });
    if (answer.status === 401) {
      // Expired or revoked: drop the cookies so the browser stops sending them.
      reply.endWebSession();
      throw notSignedIn();
    }
    if (answer.status !== 200) return relayError(reply, answer);
    return { username: answer.body.username as string };
  });

  // No CSRF token needed: DELETE is not a method a cross-site form or a preflight-free fetch can use.
  app.delete('/web/v1/session', {
    schema: { response: { 204: Type.Null() } },
  }, async (_request, reply) => reply.endWebSession().status(204).send(null));
};

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden } from '@tmuxme/service-kit';
import { overHttps } from '../client-transport.js';

/** The web pages' JWT: httpOnly, so a script injected into a page cannot read it. */
export const sessionCookie = 'tmuxme_session';
/** Readable by the pages' own script, which echoes it in `x-csrf-token`; another site can neither read it nor set the header. */
export const csrfCookie = 'tmuxme_csrf';
export const csrfHeader = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook of the proxied routes: lets the session cookie stand in for `Authorization: Bearer`. */
    authenticateByCookie: (request: FastifyRequest) => Promise<void>;
  }
  interface FastifyRequest {
    /** The JWT from the session cookie when it is what authenticates this request; null otherwise. */
    cookieToken: string | null;
  }
  interface FastifyReply {
    startWebSession(accessToken: string, expiresIn: number): FastifyReply;
    endWebSession(): FastifyReply;
  }
}

export interface CookieSessionOptions {
  trustProxy: boolean;
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
// Only a well-formed JWT goes into a header upstream; anything else in the cookie is ignored.
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The session cookie's JWT, if the request has a well-formed one. */
export function sessionToken(request: FastifyRequest): string | undefined {
  const token = request.cookies[sessionCookie];
  return token && jwtShape.test(token) ? token : undefined;
}

// Hashing first makes the comparison constant-time whatever the lengths.
const digest = (value: string) => createHash('sha256').update(value).digest();

function assertCsrfToken(request: FastifyRequest) {
  const sent = request.headers[csrfHeader];
  if (typeof sent !== 'string' || sent === '') {
    throw forbidden('CSRF_TOKEN_MISSING', `Send the ${csrfCookie} cookie's value in the ${csrfHeader} header with every change.`);
  }
  const expected = request.cookies[csrfCookie];
  if (!expected || !timingSafeEqual(digest(sent), digest(expected))) {
    throw forbidden('CSRF_TOKEN_INVALID', `The ${csrfHeader} header does not match this session; reload the page and try again.`);
  }
}

/**
 * Browser sessions: the cookies that carry them and the double-submit check
 * that keeps another site from using them. A request with its own
 * Authorization header (the CLI) is left alone: no browser sends one by itself.
 */
export const cookieSessionPlugin = fp<CookieSessionOptions>(async (app, { trustProxy }) => {
  await app.register(cookie);
  app.decorateRequest('cookieToken', null);

  app.decorate('authenticateByCookie', async (request: FastifyRequest) => {
    request.cookieToken = null;
    if (request.headers.authorization) return;
    const token = sessionToken(request);
    if (!token) return;
    // Everything but the read-only methods, not only the four the API uses today.
    if (!safeMethods.has(request.method)) assertCsrfToken(request);
    request.cookieToken = token;
  });

  const attributes = (request: FastifyRequest) => ({ path: '/', sameSite: 'lax' as const, secure: overHttps(request, trustProxy) });

  app.decorateReply('startWebSession', function (this: FastifyReply, accessToken: string, expiresIn: number) {
    const options = { ...attributes(this.request), maxAge: expiresIn };
    return this
      .setCookie(sessionCookie, accessToken, { ...options, httpOnly: true })
      .setCookie(csrfCookie, randomBytes(32).toString('base64url'), options);
  });

  app.decorateReply('endWebSession', function (this: FastifyReply) {
    const options = attributes(this.request);
    return this.clearCookie(sessionCookie, { ...options, httpOnly: true }).clearCookie(csrfCookie, options);
  });
}, { name: 'cookie-session' });

import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/**
 * What the browser used to reach us. Behind a TLS-terminating proxy the
 * gateway sees plain HTTP, so the proxy's X-Forwarded-* headers say it, but
 * only when the deployment says a proxy is there (`trustProxy`): otherwise
 * any client could claim https and get cookies and HSTS meant for it.
 */
const firstValue = (header: string | string[] | undefined) => [header].flat()[0]?.split(',')[0]?.trim().toLowerCase() || undefined;

export function overHttps(request: FastifyRequest, trustProxy: boolean): boolean {
  if ((request.raw.socket as TLSSocket).encrypted) return true;
  return trustProxy && firstValue(request.headers['x-forwarded-proto']) === 'https';
}

/** The host the browser asked for, as an Origin header would name it. */
export function publicHost(request: FastifyRequest, trustProxy: boolean): string | undefined {
  return (trustProxy ? firstValue(request.headers['x-forwarded-host']) : undefined) ?? firstValue(request.headers.host);
}

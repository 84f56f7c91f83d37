import fp from 'fastify-plugin';
import { overHttps } from '../client-transport.js';

/**
 * The pages load only their own bundled scripts, styles and fonts and talk
 * only to this origin: no inline code, no third parties, no framing, so an
 * injected tag has nothing to run and nowhere to send what it reads.
 */
export const contentSecurityPolicy = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
].join('; ');

const headers = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export interface SecurityHeadersOptions {
  trustProxy: boolean;
}

/**
 * Sets the headers on every response, the proxied API's and the errors'
 * included (onSend runs for all of them), overriding whatever an upstream sent.
 * HSTS only over https: sent over plain HTTP it would be ignored at best and
 * would lock a local http:// run out of the browser at worst.
 */
export const securityHeadersPlugin = fp<SecurityHeadersOptions>(async (app, { trustProxy }) => {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.headers(headers);
    if (overHttps(request, trustProxy)) reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });
}, { name: 'security-headers' });

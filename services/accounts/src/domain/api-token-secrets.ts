import { createHash, randomInt } from 'node:crypto';

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const prefix = 'tmx_';
const secretLength = 40;
export const apiTokenPattern = /^tmx_[0-9A-Za-z]{40}$/;

/** `tmx_` + 40 base62 characters (≈238 bits): the prefix lets secret scanners spot a leaked token. */
export function generateApiToken(): string {
  let secret = '';
  for (let i = 0; i < secretLength; i += 1) secret += alphabet[randomInt(alphabet.length)];
  return prefix + secret;
}

/** Tokens are high-entropy, so a plain SHA-256 is enough to make a stolen table useless. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What the token list shows so a user can tell tokens apart without the secret. */
export function tokenHint(token: string): string {
  return `${prefix}…${token.slice(-4)}`;
}

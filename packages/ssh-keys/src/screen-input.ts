import { InvalidKeyError } from './invalid-key-error.js';

const MAX_LINE_BYTES = 8 * 1024;
// Checked before any pattern matching so hostile megabyte pastes cost nothing;
// generous enough that even a 16384-bit RSA private key still gets the friendlier "private-key" answer.
const HARD_LIMIT_CHARS = 64 * 1024;

const PRIVATE_KEY_MARKERS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/, // OpenSSH, PKCS#1, PKCS#8, SEC1, encrypted PEM
  /---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----/, // ssh.com / Tectia
  /PuTTY-User-Key-File-\d+:/,
  /b3BlbnNzaC1rZXktdjE/, // base64 of "openssh-key-v1": an OpenSSH private key body pasted without its armour
];

// Armoured public keys (PEM, RFC 4716 as exported by PuTTYgen) and X.509 certificates.
const ARMOURED = /^-{4,5} ?BEGIN /;

// Loose on purpose: it only has to recognise "type AAAA…" anywhere, to explain a
// rejection; the strict grammar is enforced later on the single line.
const KEY_LIKE = /(?:^|\s)(?:ssh|ecdsa|sk)-[a-z0-9@.-]+ AAAA[A-Za-z0-9+/]{8,}/g;

/**
 * Rejections that look at the paste as a whole, most specific first, so the
 * user learns what they pasted rather than merely that it is not a key line.
 * Returns the trimmed text, guaranteed to be a single line without controls.
 */
export function screenInput(input: string): string {
  if (typeof input !== 'string') {
    throw new InvalidKeyError('malformed', 'The key must be given as text.');
  }
  const text = input.trim();
  if (text === '') throw new InvalidKeyError('empty', 'No key was given; paste the contents of your .pub file.');
  if (text.length > HARD_LIMIT_CHARS) throw tooLong();
  if (PRIVATE_KEY_MARKERS.some((marker) => marker.test(text))) {
    throw new InvalidKeyError('private-key', 'This looks like a private key. Paste the public key: the contents of the .pub file.');
  }
  if (ARMOURED.test(text)) {
    throw new InvalidKeyError(
      'wrong-format',
      'This key is in PEM or RFC 4716 format; paste the one-line OpenSSH format instead (ssh-keygen -i -f FILE converts it).',
    );
  }
  const keyCount = text.match(KEY_LIKE)?.length ?? 0;
  if (keyCount >= 2) {
    throw new InvalidKeyError('multiple-keys', `That is ${keyCount === 2 ? 'two' : keyCount} keys; add them one at a time.`);
  }
  if (Buffer.byteLength(text, 'utf8') > MAX_LINE_BYTES) throw tooLong();
  checkControlCharacters(text);
  return text;
}

function tooLong(): InvalidKeyError {
  return new InvalidKeyError('too-long', 'That is too long for a public key (the limit is 8 KB); paste only the line from the .pub file.');
}

function checkControlCharacters(text: string): void {
  if (/[\r\n]/.test(text)) {
    throw new InvalidKeyError('control-characters', 'The key must be on a single line, but it contains a line break.');
  }
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\x00-\x1f\x7f]/.test(text)) {
    throw new InvalidKeyError('control-characters', 'The key contains control characters such as tabs or NUL bytes; paste it as a single plain line.');
  }
}

import { InvalidKeyError } from './invalid-key-error.js';
import { parsePublicKey } from './parse-public-key.js';

const COMMENT = /^[\x21-\x7e]+$/;

/**
 * Builds the authorized_keys line for a stored key. The key is re-validated
 * because whatever reaches this file is trusted by sshd: a stored blob or type
 * carrying a newline or options would let its owner inject arbitrary entries.
 */
export function authorizedKeysLine(key: { type: string; blob: string }, comment: string): string {
  if (!COMMENT.test(comment)) {
    throw new RangeError('An authorized_keys comment must be non-empty printable ASCII without spaces.');
  }
  const parsed = parsePublicKey(`${key.type} ${key.blob}`);
  // Anything parsePublicKey had to trim or drop means the stored record is not what we wrote.
  if (parsed.type !== key.type || parsed.blob !== key.blob) {
    throw new InvalidKeyError('malformed', 'The stored key is not in canonical form; it must be exactly a key type and its base64 data.');
  }
  return `${key.type} ${key.blob} ${comment}`;
}

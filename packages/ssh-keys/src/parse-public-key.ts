import { createHash } from 'node:crypto';
import { decodeKeyBlob } from './decode-key-blob.js';
import { InvalidKeyError } from './invalid-key-error.js';
import { screenInput } from './screen-input.js';
import { splitKeyLine } from './split-key-line.js';

export interface PublicKey {
  type: string;
  /** Canonical base64 of the wire-format blob; this, not the pasted text, is what gets stored. */
  blob: string;
  /** Same text `ssh-keygen -lf` prints, e.g. "SHA256:ZNaf…". */
  fingerprint: string;
  bits: number;
  /** The user's comment, only as a suggested title; it never goes into authorized_keys. */
  comment?: string;
}

/**
 * Strictly validates one pasted OpenSSH public key line (docs/architecture.md §7).
 * The blob is decoded and checked field by field here rather than trusting a
 * library parser, because the usual ones accept DSA, certificates, private keys
 * and newline-smuggled second keys.
 */
export function parsePublicKey(input: string): PublicKey {
  const line = screenInput(input);
  const { type, blobText, comment } = splitKeyLine(line);
  const blob = decodeBase64(blobText);
  const bits = decodeKeyBlob(type, blob);
  const key: PublicKey = { type, blob: blob.toString('base64'), fingerprint: fingerprintOf(blob), bits };
  if (comment !== undefined) key.comment = comment;
  return key;
}

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Node's decoder silently skips junk and tolerates missing padding; requiring
 * an exact round trip gives OpenSSH's strictness and one spelling per blob.
 */
function decodeBase64(text: string): Buffer {
  const blob = Buffer.from(text, 'base64');
  if (text.length % 4 !== 0 || blob.toString('base64') !== text) {
    throw new InvalidKeyError('malformed', 'The key data is not valid base64; it may have been cut off or altered while copying.');
  }
  return blob;
}

import { certificateError, dsaError, InvalidKeyError } from './invalid-key-error.js';
import {
  isCertificateType,
  isDsaType,
  isSupportedKeyType,
  KEY_LINE_PATTERN,
  looksLikeKeyType,
  type SupportedKeyType,
} from './key-types.js';

export interface KeyLineParts {
  type: SupportedKeyType;
  blobText: string;
  comment?: string;
}

const MAX_COMMENT_CHARS = 100;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// Where a key begins when something precedes it: " type AAAA".
const EMBEDDED_KEY = / (?:ssh|ecdsa|sk)-[a-z0-9@.-]+ AAAA/;
// authorized_keys option list: name or name="value", comma separated (sshd(8) AUTHORIZED_KEYS FILE FORMAT).
const OPTION_LIST = /^[A-Za-z-]+(?:="(?:[^"\\]|\\.)*")?(?:,[A-Za-z-]+(?:="(?:[^"\\]|\\.)*")?)*$/;

/** Splits a screened single line into "type blob [comment]" and checks each part. */
export function splitKeyLine(line: string): KeyLineParts {
  const firstSpace = line.indexOf(' ');
  const type = firstSpace < 0 ? line : line.slice(0, firstSpace);
  const rest = firstSpace < 0 ? '' : line.slice(firstSpace + 1);
  const secondSpace = rest.indexOf(' ');
  const blobText = secondSpace < 0 ? rest : rest.slice(0, secondSpace);
  const comment = secondSpace < 0 ? undefined : rest.slice(secondSpace + 1);

  const supported = checkType(type, rest, line);
  checkBlobText(blobText);
  checkComment(comment);
  // Every check above is stricter than or equal to the documented grammar;
  // this makes the contract itself the final word should they ever drift apart.
  if (!KEY_LINE_PATTERN.test(line)) {
    throw new InvalidKeyError('malformed', 'This is not a valid public key line: expected the key type, a space, the key data and an optional comment.');
  }
  const trimmedComment = comment?.trim();
  return trimmedComment ? { type: supported, blobText, comment: trimmedComment } : { type: supported, blobText };
}

function checkType(type: string, rest: string, line: string): SupportedKeyType {
  if (isSupportedKeyType(type)) return type;
  if (isDsaType(type)) throw dsaError();
  if (isCertificateType(type)) throw certificateError();
  const embedded = line.search(EMBEDDED_KEY);
  if (embedded > 0) throw leadingTextError(line.slice(0, embedded));
  if (/[^\x21-\x7e]/.test(type)) {
    throw new InvalidKeyError(
      'malformed',
      'The key contains a non-ASCII character, often a non-breaking space copied from a web page or document; copy the key again from the .pub file.',
    );
  }
  // A blob always opens with the 4-byte length of a short type name, i.e. "AAAA";
  // requiring it keeps ordinary prose from being reported as an unknown key type.
  if (looksLikeKeyType(type) && /^AAAA[A-Za-z0-9+/]{12}/.test(rest)) {
    throw new InvalidKeyError('unsupported-type', `Keys of type ${type} are not supported; use ed25519 (ECDSA, RSA of 2048 bits or more, and security keys also work).`);
  }
  throw new InvalidKeyError('malformed', 'This does not look like an SSH public key; it should start with the key type, such as ssh-ed25519.');
}

function leadingTextError(prefix: string): InvalidKeyError {
  if (OPTION_LIST.test(prefix)) {
    return new InvalidKeyError('options', 'Options such as command="…" are not allowed before the key.');
  }
  return new InvalidKeyError('malformed', 'Paste only the key itself, starting with its type (such as ssh-ed25519); remove the text in front of it.');
}

function checkBlobText(blobText: string): void {
  if (blobText === '') {
    throw new InvalidKeyError('malformed', 'The key data is missing: expected the key type, one space, then the key data.');
  }
  if (!BASE64.test(blobText)) {
    throw new InvalidKeyError('malformed', 'The key data is not valid base64; it may have been altered while copying.');
  }
}

function checkComment(comment: string | undefined): void {
  if (comment === undefined) return;
  if (/[^\x20-\x7e]/.test(comment)) {
    throw new InvalidKeyError('invalid-comment', 'The comment after the key may only contain plain ASCII characters; shorten or retype it.');
  }
  if (comment.length > MAX_COMMENT_CHARS) {
    throw new InvalidKeyError('comment-too-long', `The comment after the key is ${comment.length} characters long; the limit is ${MAX_COMMENT_CHARS}.`);
  }
}

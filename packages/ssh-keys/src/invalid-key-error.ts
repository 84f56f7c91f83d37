/**
 * Why a pasted public key was refused. Callers (HTTP layer, UI) switch on the
 * reason; the message is meant to be shown to the person who pasted the key.
 */
export type InvalidKeyReason =
  | 'empty'
  | 'too-long'
  | 'private-key'
  | 'wrong-format'
  | 'multiple-keys'
  | 'options'
  | 'control-characters'
  | 'dsa'
  | 'certificate'
  | 'unsupported-type'
  | 'malformed'
  | 'type-mismatch'
  | 'trailing-data'
  | 'invalid-point'
  | 'rsa-too-short'
  | 'rsa-too-long'
  | 'comment-too-long'
  | 'invalid-comment';

export class InvalidKeyError extends Error {
  readonly code = 'INVALID_KEY';
  override readonly name = 'InvalidKeyError';

  constructor(
    readonly reason: InvalidKeyReason,
    message: string,
  ) {
    super(message);
  }
}

// Shared because both the key line and the decoded blob can reveal these types.
export function dsaError(): InvalidKeyError {
  return new InvalidKeyError('dsa', 'DSA keys are no longer accepted by OpenSSH; use ed25519.');
}

export function certificateError(): InvalidKeyError {
  return new InvalidKeyError('certificate', 'Certificates are not accepted; paste the plain public key.');
}

export { authorizedKeysLine } from './authorized-keys-line.js';
export { InvalidKeyError, type InvalidKeyReason } from './invalid-key-error.js';
export { parsePublicKey, type PublicKey } from './parse-public-key.js';
export { SUPPORTED_KEY_TYPES, type SupportedKeyType } from './key-types.js';

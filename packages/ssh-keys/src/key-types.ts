/** Key types we accept, with the parts of their wire layout that vary. */
export type SupportedKeyType =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'sk-ssh-ed25519@openssh.com'
  | 'sk-ecdsa-sha2-nistp256@openssh.com'
  | 'ssh-rsa';

export const SUPPORTED_KEY_TYPES: readonly SupportedKeyType[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-rsa',
];

export function isSupportedKeyType(type: string): type is SupportedKeyType {
  return (SUPPORTED_KEY_TYPES as readonly string[]).includes(type);
}

/** Kept verbatim from docs/architecture.md §7 so the contract is auditable. */
export const KEY_LINE_PATTERN =
  /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com|ssh-rsa) [A-Za-z0-9+/]+={0,2}( [\x20-\x7e]{0,100})?$/;

export function isDsaType(type: string): boolean {
  return type === 'ssh-dss';
}

/** Covers the current v01 and the long-gone v00 certificate formats. */
export function isCertificateType(type: string): boolean {
  return /-cert-v0[01]@openssh\.com$/.test(type);
}

/** Shape of an SSH key algorithm name (RFC 4251 §6), used only to pick a helpful error. */
export function looksLikeKeyType(token: string): boolean {
  return /^[a-z0-9]+-[a-z0-9.@+-]{1,62}$/.test(token);
}

import { InvalidKeyError, parsePublicKey } from '@tmuxme/ssh-keys';
import { badRequest } from '@tmuxme/service-kit';

/** An SSH host public key as OpenSSH's known_hosts and `KnownHostsCommand` want it. */
export interface HostKey {
  type: string;
  /** `type base64`, re-encoded, without the comment. */
  line: string;
  /** As `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

const invalid = (message: string) => badRequest('INVALID_HOST_KEY', message, { field: 'hostKey' });

/**
 * Checks one host key line as strictly as users' own keys: it ends up inside a shell command that
 * guests paste. Security-key types are user keys only; no sshd serves one as its host key.
 */
export function parseHostKey(input: string): HostKey {
  let key;
  try {
    key = parsePublicKey(input);
  } catch (error) {
    if (error instanceof InvalidKeyError) throw invalid(`That host key cannot be used: ${error.message}`);
    throw error;
  }
  if (key.type.startsWith('sk-')) throw invalid('A host key is the sshd key of your machine (ssh_host_ed25519_key.pub), not a security key.');
  return { type: key.type, line: `${key.type} ${key.blob}`, fingerprint: key.fingerprint };
}

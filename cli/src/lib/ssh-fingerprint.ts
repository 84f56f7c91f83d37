import { createHash } from 'node:crypto';

/** `SHA256:` + unpadded base64 of the key blob's hash, as `ssh-keygen -lf` prints it. */
export function sshFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

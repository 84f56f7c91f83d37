import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GeneratedKey {
  publicKey: string;
  privateKey: string;
  /** As `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** A real key pair from OpenSSH's ssh-keygen, e.g. `generateSshKey('ed25519')` or `generateSshKey('rsa', 1024)`. */
export async function generateSshKey(type: 'ed25519' | 'ecdsa' | 'rsa' | 'dsa' = 'ed25519', bits?: number, comment = 'test@example'): Promise<GeneratedKey> {
  const dir = await mkdtemp(join(tmpdir(), 'tmuxme-key-'));
  try {
    const file = join(dir, 'id');
    await run('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', comment, '-f', file]);
    const { stdout } = await run('ssh-keygen', ['-lf', `${file}.pub`]);
    return {
      publicKey: await readFile(`${file}.pub`, 'utf8'),
      privateKey: await readFile(file, 'utf8'),
      fingerprint: stdout.split(' ')[1]!,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A real Ed25519 public key as `ssh-ed25519 <base64>`, made in-process: for tests that need many keys or
 * a key up front, where a pair of ssh-keygen runs per key would cost more than the test itself.
 */
export function ed25519PublicKeyLine(): string {
  const { x } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(Buffer.from(x!, 'base64url'))]).toString('base64')}`;
}

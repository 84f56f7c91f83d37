import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface Ed25519Pair {
  /** `ssh-ed25519 <base64>`, as an authorized_keys line and KeyAdded carry it. */
  publicKey: string;
  /** OpenSSH's own private key format (unencrypted), which ssh2 reads; it reads no PKCS#8. */
  privateKey: string;
}

const field = (bytes: Buffer | string) => {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
};

/**
 * A fresh key made in-process: ssh-keygen twice per key would cost minutes for 10,000 of them, and
 * ssh2's own generator writes about one key in 280 that its parser then refuses (cli/src/lib/host-key.ts).
 */
export function ed25519Pair(comment = 'bench'): Ed25519Pair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const blob = Buffer.concat([field('ssh-ed25519'), field(x)]);
  const check = randomBytes(4);
  // PROTOCOL.key: two equal check words, the key (private part = seed then public), a comment, then 1, 2, 3… up to a block of 8.
  const secret = Buffer.concat([check, check, field('ssh-ed25519'), field(x), field(Buffer.concat([d, x])), field(comment)]);
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'), field('none'), field('none'), field(''), Buffer.from([0, 0, 0, 1]), field(blob), field(Buffer.concat([secret, padding])),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g)!.join('\n');
  return {
    publicKey: `ssh-ed25519 ${blob.toString('base64')}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

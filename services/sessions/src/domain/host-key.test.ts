import { describe, expect, it } from '@jest/globals';
import { generateSshKey } from '@tmuxme/testing';
import { parseHostKey } from './host-key.js';

/** Host keys as sshd's .pub files hold them, and crafted blobs that only look like keys. */
const wire = (...parts: (string | Buffer)[]) => Buffer.concat(parts.map((part) => {
  const bytes = Buffer.from(part);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}));
const line = (type: string, blob: Buffer) => `${type} ${blob.toString('base64')}`;

describe('parseHostKey', () => {
  it.each([
    ['ed25519', 'ed25519', undefined], ['ECDSA P-256', 'ecdsa', 256], ['ECDSA P-384', 'ecdsa', 384], ['ECDSA P-521', 'ecdsa', 521], ['RSA 3072', 'rsa', 3072],
  ] as const)('accepts %s keys as ssh-keygen writes them', async (_name, type, bits) => {
    const key = await generateSshKey(type, bits, 'root@host');
    const [keyType, blob] = key.publicKey.split(' ');
    expect(parseHostKey(key.publicKey)).toEqual({ type: keyType, line: `${keyType} ${blob}`, fingerprint: key.fingerprint });
  });

  it.each([
    ['an ed25519 key of 31 bytes', line('ssh-ed25519', wire('ssh-ed25519', Buffer.alloc(31)))],
    ['an ECDSA key naming another curve', line('ecdsa-sha2-nistp256', wire('ecdsa-sha2-nistp256', 'nistp384', Buffer.alloc(97, 4)))],
    ['an ECDSA point off its curve', line('ecdsa-sha2-nistp256', wire('ecdsa-sha2-nistp256', 'nistp256', Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])))],
    ['a 512-bit RSA key', line('ssh-rsa', wire('ssh-rsa', Buffer.from([1, 0, 1]), Buffer.alloc(64, 0xff)))],
    ['a length prefix past the end', `ssh-ed25519 ${Buffer.from([0, 0, 0, 99, 1, 2]).toString('base64')}`],
    ['a certificate', line('ssh-ed25519-cert-v01@openssh.com', wire('ssh-ed25519-cert-v01@openssh.com', Buffer.alloc(32)))],
  ])('refuses %s', (_name, input) => {
    expect(() => parseHostKey(input)).toThrow(expect.objectContaining({ statusCode: 400, code: 'INVALID_HOST_KEY' }));
  });

  it('refuses base64 without its padding, which would give one key two spellings', async () => {
    const key = (await generateSshKey('ecdsa', 256)).publicKey.split(' ').slice(0, 2).join(' ');
    expect(key).toMatch(/=$/);
    expect(() => parseHostKey(key.replace(/=+$/, ''))).toThrow('not valid base64');
  });
});

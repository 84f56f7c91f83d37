// Hand-made inputs: the security-key types (ssh-keygen needs hardware to make
// them) and every kind of damaged or hostile blob a paste box might receive.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parsePublicKey } from './parse-public-key.js';
import {
  blob,
  ed25519Blob,
  expectInvalid,
  fingerprintLine,
  keyLine,
  makeTempDir,
  removeTempDir,
  rsaBlobFromNodeCrypto,
  sshMpint,
  sshString,
  uncompressedPoint,
} from './test-helpers.js';

const SK_ED25519 = 'sk-ssh-ed25519@openssh.com';
const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com';
const F4 = Buffer.from([1, 0, 1]);

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});
afterAll(async () => {
  await removeTempDir(dir);
});

function realEd25519PublicKey(): Buffer {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

function ecdsaBlob(type: string, curve: string, point: Buffer): Buffer {
  return blob(sshString(type), sshString(curve), sshString(point));
}

/** A modulus of exactly `bits` bits; odd, as every real one is. */
function fakeModulus(bits: number): Buffer {
  const modulus = randomBytes(Math.ceil(bits / 8));
  const topBits = bits % 8 || 8;
  modulus[0] = (modulus[0]! & ((1 << topBits) - 1)) | (1 << (topBits - 1));
  modulus[modulus.length - 1]! |= 1;
  return modulus;
}

function rsaBlob(exponent: Buffer, modulusField: Buffer): Buffer {
  return blob(sshString('ssh-rsa'), sshMpint(exponent), modulusField);
}

describe('security-key (FIDO) public keys', () => {
  it('accepts sk-ssh-ed25519 with the fingerprint ssh-keygen prints', async () => {
    const line = keyLine(SK_ED25519, blob(sshString(SK_ED25519), sshString(realEd25519PublicKey()), sshString('ssh:')), 'yubikey');
    const parsed = parsePublicKey(line);
    expect(parsed).toMatchObject({ type: SK_ED25519, bits: 256, comment: 'yubikey' });
    expect(parsed.fingerprint).toBe((await fingerprintLine(dir, line)).fingerprint);
  });

  it('accepts sk-ecdsa-sha2-nistp256 with the fingerprint ssh-keygen prints', async () => {
    const line = keyLine(SK_ECDSA, blob(ecdsaBlob(SK_ECDSA, 'nistp256', uncompressedPoint('P-256')), sshString('ssh:')));
    const parsed = parsePublicKey(line);
    expect(parsed).toMatchObject({ type: SK_ECDSA, bits: 256 });
    expect(parsed.fingerprint).toBe((await fingerprintLine(dir, line)).fingerprint);
  });

  it('rejects an sk-ecdsa key on another curve', () => {
    const data = blob(ecdsaBlob(SK_ECDSA, 'nistp384', uncompressedPoint('P-384')), sshString('ssh:'));
    expectInvalid(keyLine(SK_ECDSA, data), 'type-mismatch');
  });

  it('rejects a security key without its application, or with a NUL in it', () => {
    expectInvalid(keyLine(SK_ED25519, blob(sshString(SK_ED25519), sshString(randomBytes(32)))), 'malformed');
    const nul = blob(sshString(SK_ED25519), sshString(randomBytes(32)), sshString('ssh:\0evil'));
    expectInvalid(keyLine(SK_ED25519, nul), 'malformed');
  });
});

describe('rejections of the line itself', () => {
  const valid = keyLine('ssh-ed25519', ed25519Blob());
  // 52 bytes: needs "==" padding, and its final quantum is "AA==".
  const padded = blob(ed25519Blob(), Buffer.alloc(1)).toString('base64');

  it.each(['', '   ', '\n\r\n\t'])('rejects empty input %j', (input) => {
    expectInvalid(input, 'empty');
  });

  it.each([
    ['a NUL byte', `${valid} me\0@host`],
    ['a CR inside', `${valid}\rcommand=x`],
    ['a line break followed by junk', `${valid}\nhello`],
    ['a tab separator', valid.replace(' ', '\t')],
  ])('rejects %s', (_label, input) => {
    expectInvalid(input, 'control-characters');
  });

  it('rejects input over 8 KB, however large', () => {
    expectInvalid(`ssh-rsa ${'A'.repeat(8200)}`, 'too-long');
    expectInvalid(`ssh-rsa ${'A'.repeat(2_000_000)}`, 'too-long');
  });

  it.each(['ssh-xmss@openssh.com', 'ecdsa-sha2-nistp192', 'ssh-ed448'])('rejects unsupported type %s', (type) => {
    expect(expectInvalid(keyLine(type, blob(sshString(type), sshString(randomBytes(48)))), 'unsupported-type').message).toContain(type);
  });

  it.each([
    ['plain text', 'hello world'],
    ['prose starting with a dashed word', 'well-known AAAA is not a key'],
    ['a type without data', 'ssh-ed25519'],
    ['two spaces after the type', valid.replace(' ', '  ')],
    ['a non-breaking space', valid.replace(' ', '\u00a0')],
    ['base64 with invalid characters', `ssh-ed25519 AAAA*AAA`],
    ['base64url alphabet', `ssh-ed25519 ${ed25519Blob(Buffer.alloc(32, 0xff)).toString('base64url')}`],
    ['base64 missing padding', `ssh-ed25519 ${padded.replace(/=+$/, '')}`],
    ['base64 cut mid-quantum', valid.slice(0, -3)],
    ['base64 with non-zero padding bits', `ssh-ed25519 ${padded.replace(/A==$/, 'B==')}`],
    ['a stray padding character', `ssh-ed25519 ${padded.replace(/==$/, '=')}`],
  ])('rejects %s as malformed', (_label, input) => {
    expectInvalid(input, 'malformed');
  });

  it('rejects a comment of 101 characters', () => {
    expectInvalid(`${valid} ${'c'.repeat(101)}`, 'comment-too-long');
  });

  it.each(['café', 'me@host 🔑', 'tab\u00a0nbsp'])('rejects the non-ASCII comment %j', (comment) => {
    expectInvalid(`${valid} ${comment}`, 'invalid-comment');
  });
});

describe('rejections of the decoded blob', () => {
  it('rejects a blob whose inner type differs from the stated one', () => {
    expectInvalid(keyLine('ssh-rsa', ed25519Blob()), 'type-mismatch');
    const p256 = ecdsaBlob('ecdsa-sha2-nistp256', 'nistp256', uncompressedPoint('P-256'));
    expectInvalid(keyLine('ecdsa-sha2-nistp384', p256), 'type-mismatch');
  });

  it('rejects an ecdsa key stated as nistp384 whose curve is nistp256', () => {
    const data = ecdsaBlob('ecdsa-sha2-nistp384', 'nistp256', uncompressedPoint('P-256'));
    expect(expectInvalid(keyLine('ecdsa-sha2-nistp384', data), 'type-mismatch').message).toContain('nistp256');
  });

  it('rejects a DSA blob hidden behind an ssh-rsa type', () => {
    expectInvalid(keyLine('ssh-rsa', blob(...['ssh-dss', 'p', 'q', 'g', 'y'].map((f) => sshString(f)))), 'dsa');
  });

  it.each([
    ['one extra byte', blob(ed25519Blob(), Buffer.from([0]))],
    ['an extra string', blob(ed25519Blob(), sshString('extra'))],
  ])('rejects an ed25519 blob with %s', (_label, data) => {
    expectInvalid(keyLine('ssh-ed25519', data), 'trailing-data');
  });

  it('rejects an RSA blob with trailing garbage', () => {
    expectInvalid(keyLine('ssh-rsa', blob(rsaBlobFromNodeCrypto(2048), randomBytes(7))), 'trailing-data');
  });

  it.each([
    ['cut short', ed25519Blob().subarray(0, 40)],
    ['cut inside a length prefix', ed25519Blob().subarray(0, 17)],
    ['a length prefix larger than the blob', blob(sshString('ssh-ed25519'), Buffer.from([0xff, 0xff, 0xff, 0xf0]), randomBytes(32))],
    ['a 31-byte ed25519 key', ed25519Blob(randomBytes(31))],
    ['a 33-byte ed25519 key', ed25519Blob(randomBytes(33))],
  ])('rejects a blob with %s as malformed', (_label, data) => {
    expectInvalid(keyLine('ssh-ed25519', data), 'malformed');
  });

  it('rejects compressed or wrongly sized ECDSA points', () => {
    const point = uncompressedPoint('P-256');
    const compressed = Buffer.concat([Buffer.from([2 + (point[64]! & 1)]), point.subarray(1, 33)]);
    expectInvalid(keyLine('ecdsa-sha2-nistp256', ecdsaBlob('ecdsa-sha2-nistp256', 'nistp256', compressed)), 'malformed');
    const p384 = uncompressedPoint('P-384');
    expectInvalid(keyLine('ecdsa-sha2-nistp256', ecdsaBlob('ecdsa-sha2-nistp256', 'nistp256', p384)), 'malformed');
  });

  it('rejects an ECDSA point that is not on the curve', () => {
    const point = uncompressedPoint('P-521');
    point[132]! ^= 1;
    expectInvalid(keyLine('ecdsa-sha2-nistp521', ecdsaBlob('ecdsa-sha2-nistp521', 'nistp521', point)), 'invalid-point');
  });
});

describe('RSA modulus size and number encoding', () => {
  it('accepts an RSA blob built from node:crypto with the fingerprint ssh-keygen prints', async () => {
    const line = keyLine('ssh-rsa', rsaBlobFromNodeCrypto(2048));
    const parsed = parsePublicKey(line);
    expect(parsed.bits).toBe(2048);
    expect(parsed.fingerprint).toBe((await fingerprintLine(dir, line)).fingerprint);
  });

  it('counts bits, not bytes: a 2047-bit modulus is too short', () => {
    const error = expectInvalid(keyLine('ssh-rsa', rsaBlob(F4, sshMpint(fakeModulus(2047)))), 'rsa-too-short');
    expect(error.message).toBe('RSA keys need 2048 bits or more; this one has 2047.');
  });

  it('counts a 2048-bit modulus with its 0x00 sign byte as 2048 bits', () => {
    const modulus = fakeModulus(2048);
    expect(sshMpint(modulus).length).toBe(4 + 257);
    expect(parsePublicKey(keyLine('ssh-rsa', rsaBlob(F4, sshMpint(modulus)))).bits).toBe(2048);
  });

  it('rejects moduli beyond what OpenSSH can use', () => {
    expectInvalid(keyLine('ssh-rsa', rsaBlob(F4, sshMpint(fakeModulus(16385)))), 'rsa-too-long');
  });

  it.each([
    ['a negative modulus', sshString(Buffer.concat([Buffer.from([0x80]), randomBytes(255)]))],
    ['a superfluous leading zero', sshString(Buffer.concat([Buffer.from([0, 0x40]), fakeModulus(2048).subarray(1)]))],
    ['a zero-length modulus', sshString(Buffer.alloc(0))],
    ['an even modulus', sshMpint(Buffer.concat([fakeModulus(2048).subarray(0, 255), Buffer.from([2])]))],
  ])('rejects %s as malformed', (_label, modulusField) => {
    expectInvalid(keyLine('ssh-rsa', rsaBlob(F4, modulusField)), 'malformed');
  });

  it.each([Buffer.from([1]), Buffer.from([1, 0, 0])])('rejects the exponent %j', (exponent) => {
    expectInvalid(keyLine('ssh-rsa', rsaBlob(exponent, sshMpint(fakeModulus(2048)))), 'malformed');
  });
});

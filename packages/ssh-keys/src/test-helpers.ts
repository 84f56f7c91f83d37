// Shared by the *.test.ts files in this folder only; not exported from index.ts.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from '@jest/globals';
import { InvalidKeyError, type InvalidKeyReason } from './invalid-key-error.js';
import { parsePublicKey } from './parse-public-key.js';

const run = promisify(execFile);
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

export interface GeneratedKey {
  path: string; // private key file; the public key is at `${path}.pub`
  publicLine: string; // exact .pub file content, trailing newline included
  fingerprint: string; // as printed by `ssh-keygen -lf`
  bits: number; // as printed by `ssh-keygen -lf`
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ssh-key-test-'));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function sshKeygen(args: string[]): Promise<string> {
  const { stdout } = await run(SSH_KEYGEN, args);
  return stdout;
}

/** Runs `ssh-keygen -lf` and splits "256 SHA256:… comment (ED25519)". */
export async function keygenFingerprint(pubPath: string): Promise<{ bits: number; fingerprint: string }> {
  const [bits, fingerprint] = (await sshKeygen(['-lf', pubPath])).trim().split(' ');
  return { bits: Number(bits), fingerprint: fingerprint ?? '' };
}

export async function generateKey(dir: string, name: string, type: string, bits?: number): Promise<GeneratedKey> {
  const path = join(dir, name);
  const sizeArgs = bits === undefined ? [] : ['-b', String(bits)];
  await sshKeygen(['-q', '-t', type, ...sizeArgs, '-N', '', '-C', `${name}@test-host`, '-f', path]);
  const publicLine = await readFile(`${path}.pub`, 'utf8');
  return { path, publicLine, ...(await keygenFingerprint(`${path}.pub`)) };
}

/** Writes a hand-made key line so that ssh-keygen can fingerprint it too. */
export async function fingerprintLine(dir: string, line: string): Promise<{ bits: number; fingerprint: string }> {
  const path = join(dir, `crafted-${randomBytes(4).toString('hex')}.pub`);
  await writeFile(path, `${line}\n`);
  return keygenFingerprint(path);
}

// --- SSH wire format encoding (RFC 4251 §5), for crafting blobs by hand ---

export function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Positive mpint from an unsigned big-endian magnitude, with the sign byte OpenSSH adds. */
export function sshMpint(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsSignByte = ((trimmed[0] ?? 0) & 0x80) !== 0;
  return sshString(needsSignByte ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function blob(...fields: Buffer[]): Buffer {
  return Buffer.concat(fields);
}

export function keyLine(type: string, data: Buffer, comment?: string): string {
  return comment === undefined ? `${type} ${data.toString('base64')}` : `${type} ${data.toString('base64')} ${comment}`;
}

/** Decodes the blob of a "type base64 [comment]" line. */
export function blobOf(line: string): Buffer {
  return Buffer.from(line.trim().split(' ')[1] ?? '', 'base64');
}

export function uncompressedPoint(curve: 'P-256' | 'P-384' | 'P-521'): Buffer {
  const jwk = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
}

export function rsaBlobFromNodeCrypto(modulusLength: number): Buffer {
  const jwk = generateKeyPairSync('rsa', { modulusLength }).publicKey.export({ format: 'jwk' });
  const e = Buffer.from(jwk.e ?? '', 'base64url');
  const n = Buffer.from(jwk.n ?? '', 'base64url');
  return blob(sshString('ssh-rsa'), sshMpint(e), sshMpint(n));
}

export function ed25519Blob(pk: Buffer = randomBytes(32)): Buffer {
  return blob(sshString('ssh-ed25519'), sshString(pk));
}

// --- assertions ---

export function expectInvalid(input: string, reason: InvalidKeyReason): InvalidKeyError {
  return expectRejected(() => parsePublicKey(input), reason);
}

export function expectRejected(action: () => unknown, reason: InvalidKeyReason): InvalidKeyError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidKeyError);
  const error = caught as InvalidKeyError;
  expect({ reason: error.reason, code: error.code }).toEqual({ reason, code: 'INVALID_KEY' });
  // A plain sentence a person can read: capitalised, one line, full stop.
  expect(error.message).toMatch(/^[A-Z][^\n]{10,}\.$/);
  return error;
}

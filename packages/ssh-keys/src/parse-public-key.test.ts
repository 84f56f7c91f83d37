// Keys come from the real /usr/bin/ssh-keygen so that accepted keys, bit sizes
// and fingerprints are checked against OpenSSH itself rather than our own idea of it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { parsePublicKey } from './parse-public-key.js';
import {
  blob,
  expectInvalid,
  generateKey,
  keyLine,
  makeTempDir,
  removeTempDir,
  rsaBlobFromNodeCrypto,
  sshKeygen,
  sshString,
  type GeneratedKey,
} from './test-helpers.js';

let dir: string;
let certificate: string;
const keys = new Map<string, GeneratedKey>();

function key(name: string): GeneratedKey {
  const found = keys.get(name);
  if (!found) throw new Error(`test key ${name} was not generated`);
  return found;
}

/** ssh-keygen may refuse obsolete keys in future releases; fall back to a hand-made line. */
async function lineOrFallback(name: string, type: string, bits: number | undefined, fallback: () => string): Promise<string> {
  try {
    return (await generateKey(dir, name, type, bits)).publicLine;
  } catch {
    return fallback();
  }
}

beforeAll(async () => {
  dir = await makeTempDir();
  const specs: Array<[string, string, number?]> = [
    ['ed25519', 'ed25519'],
    ['ecdsa256', 'ecdsa', 256],
    ['ecdsa384', 'ecdsa', 384],
    ['ecdsa521', 'ecdsa', 521],
    ['rsa2048', 'rsa', 2048],
    ['rsa3072', 'rsa', 3072],
    ['ed25519b', 'ed25519'],
    ['ca', 'ed25519'],
  ];
  const generated = await Promise.all(specs.map(([name, type, bits]) => generateKey(dir, name, type, bits)));
  generated.forEach((generatedKey, i) => keys.set(specs[i]![0], generatedKey));
  await sshKeygen(['-q', '-s', key('ca').path, '-I', 'id', '-n', 'user', `${key('ed25519').path}.pub`]);
  certificate = await readFile(`${key('ed25519').path}-cert.pub`, 'utf8');
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('parsePublicKey accepts keys made by ssh-keygen', () => {
  it.each([
    ['ed25519', 'ssh-ed25519', 256],
    ['ecdsa256', 'ecdsa-sha2-nistp256', 256],
    ['ecdsa384', 'ecdsa-sha2-nistp384', 384],
    ['ecdsa521', 'ecdsa-sha2-nistp521', 521],
    ['rsa2048', 'ssh-rsa', 2048],
    ['rsa3072', 'ssh-rsa', 3072],
  ])('%s: type %s, %i bits, same fingerprint as ssh-keygen -lf', (name, type, bits) => {
    const generated = key(name);
    const parsed = parsePublicKey(generated.publicLine);
    expect(parsed).toEqual({
      type,
      blob: generated.publicLine.split(' ')[1],
      fingerprint: generated.fingerprint,
      bits,
      comment: `${name}@test-host`,
    });
    expect(parsed.bits).toBe(generated.bits);
  });

  it('accepts surrounding whitespace and newlines, as from `cat key.pub`', () => {
    const line = key('ed25519').publicLine.trim();
    for (const input of [`${line}\n`, `${line}\r\n`, `  \n\t${line}  \n\n`]) {
      expect(parsePublicKey(input).fingerprint).toBe(key('ed25519').fingerprint);
    }
  });

  it('drops the comment from the stored blob and omits it when absent', () => {
    const [type, data] = key('ed25519').publicLine.split(' ');
    const parsed = parsePublicKey(`${type} ${data}`);
    expect(parsed).not.toHaveProperty('comment');
    expect(parsed.blob).toBe(data);
  });

  it('accepts a comment with spaces and exactly 100 characters', () => {
    const [type, data] = key('ed25519').publicLine.split(' ');
    const comment = `work laptop ${'x'.repeat(88)}`;
    expect(parsePublicKey(`${type} ${data} ${comment}`).comment).toBe(comment);
  });
});

describe('parsePublicKey rejects what ssh-keygen makes but we refuse', () => {
  it('rejects RSA 1024 as too short, naming its size', async () => {
    const line = await lineOrFallback('rsa1024', 'rsa', 1024, () => keyLine('ssh-rsa', rsaBlobFromNodeCrypto(1024)));
    expect(expectInvalid(line, 'rsa-too-short').message).toBe('RSA keys need 2048 bits or more; this one has 1024.');
  });

  it('rejects DSA keys', async () => {
    const fakeDss = () => keyLine('ssh-dss', blob(...['ssh-dss', 'p', 'q', 'g', 'y'].map((field) => sshString(field))));
    expectInvalid(await lineOrFallback('dsa', 'dsa', undefined, fakeDss), 'dsa');
  });

  it('rejects an OpenSSH certificate made with ssh-keygen -s', () => {
    expect(certificate.startsWith('ssh-ed25519-cert-v01@openssh.com ')).toBe(true);
    expectInvalid(certificate, 'certificate');
  });

  it('rejects a certificate blob presented under a plain key type', () => {
    expectInvalid(`ssh-ed25519 ${certificate.split(' ')[1]}`, 'certificate');
  });

  it.each(['ed25519', 'rsa2048'])('rejects the %s private key file content', async (name) => {
    expectInvalid(await readFile(key(name).path, 'utf8'), 'private-key');
  });

  it('rejects PEM (PKCS#1) and PKCS#8 private keys', async () => {
    const pem = await generateKey(dir, 'rsa-pem', 'rsa', 2048);
    await sshKeygen(['-q', '-p', '-m', 'PEM', '-N', '', '-P', '', '-f', pem.path]);
    const pemText = await readFile(pem.path, 'utf8');
    expect(pemText).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expectInvalid(pemText, 'private-key');
    const pkcs8 = await generateKey(dir, 'ec-pkcs8', 'ecdsa', 256);
    await sshKeygen(['-q', '-p', '-m', 'PKCS8', '-N', '', '-P', '', '-f', pkcs8.path]);
    expectInvalid(await readFile(pkcs8.path, 'utf8'), 'private-key');
  });

  it('rejects a PuTTY private key and a bare OpenSSH private key body', async () => {
    expectInvalid('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\n', 'private-key');
    const body = (await readFile(key('ed25519').path, 'utf8')).split('\n').slice(1, -2).join('');
    expectInvalid(body, 'private-key');
  });

  it('rejects a PEM public key with advice to convert it', async () => {
    const pem = await sshKeygen(['-e', '-m', 'PKCS8', '-f', `${key('rsa2048').path}.pub`]);
    expect(expectInvalid(pem, 'wrong-format').message).toContain('ssh-keygen -i');
    expectInvalid(await sshKeygen(['-e', '-f', `${key('ed25519').path}.pub`]), 'wrong-format');
  });
});

describe('parsePublicKey refuses smuggling and decorations', () => {
  it.each([
    ['LF', (a: string, b: string) => `${a}\n${b}`],
    ['CRLF', (a: string, b: string) => `${a}\r\n${b}\r\n`],
    ['blank line', (a: string, b: string) => `${a}\n\n${b}`],
    ['space', (a: string, b: string) => `${a} ${b}`],
  ])('rejects two valid keys joined by %s', (_label, join) => {
    const first = key('ed25519').publicLine.trim();
    const second = key('ed25519b').publicLine.trim();
    expect(expectInvalid(join(first, second), 'multiple-keys').message).toBe('That is two keys; add them one at a time.');
  });

  it('rejects two bare key lines without comments, one per line', () => {
    const strip = (line: string) => line.split(' ').slice(0, 2).join(' ');
    expectInvalid(`${strip(key('ed25519').publicLine)}\n${strip(key('rsa2048').publicLine)}`, 'multiple-keys');
  });

  it.each([
    'command="echo hi"',
    'restrict',
    'restrict,pty',
    'from="10.0.0.0/8",no-agent-forwarding',
    'no-pty',
    'environment="A=b c"',
  ])('rejects leading options %s', (options) => {
    expectInvalid(`${options} ${key('ed25519').publicLine}`, 'options');
  });

  it('rejects text in front of the key that is not an option list', () => {
    expectInvalid(`github.com ${key('ed25519').publicLine}`, 'malformed');
    expectInvalid(`My key: ${key('rsa2048').publicLine}`, 'malformed');
  });
});

describe('parsePublicKey names the count of smuggled keys', () => {
  it('says how many keys were pasted when there are more than two', () => {
    const lines = ['ed25519', 'ed25519b', 'rsa2048'].map((name) => key(name).publicLine).join('');
    expect(expectInvalid(lines, 'multiple-keys').message).toBe('That is 3 keys; add them one at a time.');
  });
});

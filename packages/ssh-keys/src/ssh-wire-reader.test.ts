import { describe, expect, it } from '@jest/globals';
import { InvalidKeyError } from './invalid-key-error.js';
import { SshWireReader, bitLength } from './ssh-wire-reader.js';
import { sshString } from './test-helpers.js';

describe('bitLength', () => {
  it.each([
    [[], 0],
    [[0, 0], 0],
    [[1], 1],
    [[0x80], 8],
    [[0, 0x80, 0], 16],
    [[0x01, 0xff], 9],
  ])('%j has %i bits', (bytes, bits) => {
    expect(bitLength(Buffer.from(bytes))).toBe(bits);
  });
});

describe('SshWireReader', () => {
  it('reads consecutive strings and tracks what is left', () => {
    const reader = new SshWireReader(Buffer.concat([sshString('ab'), sshString(''), Buffer.from([9])]));
    expect(reader.readAscii()).toBe('ab');
    expect(reader.readString().length).toBe(0);
    expect(reader.remaining).toBe(1);
  });

  it('never reads past the end, even with a 4 GiB length prefix', () => {
    const reader = new SshWireReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2]));
    expect(() => reader.readString()).toThrow(InvalidKeyError);
  });

  it('strips the sign byte of a positive mpint', () => {
    const reader = new SshWireReader(sshString(Buffer.from([0, 0x80, 1])));
    expect([...reader.readPositiveMpint()]).toEqual([0x80, 1]);
  });
});

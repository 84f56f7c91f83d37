import { InvalidKeyError } from './invalid-key-error.js';

const TRUNCATED = 'The key data is incomplete; it may have been cut off while copying.';

/**
 * Sequential reader for the SSH wire format (RFC 4251 §5). Every read is
 * bounds-checked against the buffer so that a hostile length prefix can never
 * make us read past the end or allocate based on attacker-supplied sizes.
 */
export class SshWireReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  readString(): Buffer {
    if (this.remaining < 4) throw new InvalidKeyError('malformed', TRUNCATED);
    const length = this.buf.readUInt32BE(this.offset);
    if (length > this.remaining - 4) throw new InvalidKeyError('malformed', TRUNCATED);
    const start = this.offset + 4;
    this.offset = start + length;
    return this.buf.subarray(start, this.offset);
  }

  /** Type names, curve names and similar identifiers are ASCII by spec. */
  readAscii(): string {
    return this.readString().toString('latin1');
  }

  /**
   * Returns the magnitude of a positive mpint without its sign byte. We insist
   * on the canonical encoding (as OpenSSH writes it) so that one key cannot
   * appear under several blobs and therefore several fingerprints.
   */
  readPositiveMpint(): Buffer {
    const raw = this.readString();
    const first = raw[0];
    if (first === undefined) throw malformedNumber('is zero');
    if (first & 0x80) throw malformedNumber('is negative');
    if (first === 0x00) {
      const next = raw[1];
      if (next === undefined || (next & 0x80) === 0) throw malformedNumber('has a superfluous leading zero');
      return raw.subarray(1);
    }
    return raw;
  }
}

function malformedNumber(problem: string): InvalidKeyError {
  return new InvalidKeyError('malformed', `The key data is damaged: a number in it ${problem}.`);
}

/** Bit length of an unsigned big-endian magnitude, ignoring any leading zero bytes. */
export function bitLength(magnitude: Buffer): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  const top = magnitude[i];
  if (top === undefined) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(top));
}

import { createPublicKey } from 'node:crypto';
import { certificateError, dsaError, InvalidKeyError } from './invalid-key-error.js';
import { isCertificateType, isDsaType, looksLikeKeyType, type SupportedKeyType } from './key-types.js';
import { SshWireReader, bitLength } from './ssh-wire-reader.js';

type CurveName = 'nistp256' | 'nistp384' | 'nistp521';

const CURVES: Record<CurveName, { bits: number; coordinateBytes: number; jwkName: string }> = {
  nistp256: { bits: 256, coordinateBytes: 32, jwkName: 'P-256' },
  nistp384: { bits: 384, coordinateBytes: 48, jwkName: 'P-384' },
  nistp521: { bits: 521, coordinateBytes: 66, jwkName: 'P-521' },
};

const ED25519_KEY_BYTES = 32;
const RSA_MIN_BITS = 2048;
// OpenSSH's own ceiling (SSHBUF_MAX_BIGNUM); larger keys could never be used to log in.
const RSA_MAX_BITS = 16384;

/**
 * Walks the decoded blob field by field for the stated type and returns the
 * key size in bits. The blob must be consumed exactly: trailing bytes would let
 * the same key hide behind many different blobs (and fingerprints).
 */
export function decodeKeyBlob(statedType: SupportedKeyType, blob: Buffer): number {
  const reader = new SshWireReader(blob);
  checkInnerType(statedType, reader.readAscii());
  const bits = readKeyBody(statedType, reader);
  if (reader.remaining > 0) {
    throw new InvalidKeyError('trailing-data', 'The key data has extra bytes after the end of the key; it has been tampered with or damaged.');
  }
  return bits;
}

function checkInnerType(statedType: string, innerType: string): void {
  if (innerType === statedType) return;
  if (isDsaType(innerType)) throw dsaError();
  if (isCertificateType(innerType)) throw certificateError();
  const actual = looksLikeKeyType(innerType) ? `an ${innerType} key` : 'something else';
  throw new InvalidKeyError('type-mismatch', `The key line says ${statedType}, but the key data is ${actual}.`);
}

function readKeyBody(type: SupportedKeyType, reader: SshWireReader): number {
  switch (type) {
    case 'ssh-ed25519':
      return readEd25519(reader);
    case 'sk-ssh-ed25519@openssh.com':
      return withApplication(readEd25519(reader), reader);
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      return readEcdsa(reader, type.slice('ecdsa-sha2-'.length) as CurveName);
    case 'sk-ecdsa-sha2-nistp256@openssh.com':
      return withApplication(readEcdsa(reader, 'nistp256'), reader);
    case 'ssh-rsa':
      return readRsa(reader);
  }
}

function readEd25519(reader: SshWireReader): number {
  const pk = reader.readString();
  if (pk.length !== ED25519_KEY_BYTES) {
    throw new InvalidKeyError('malformed', `An ed25519 public key is 32 bytes long; this one is ${pk.length}.`);
  }
  return 256;
}

/** Security-key types carry the FIDO application id ("ssh:" by default) after the key. */
function withApplication(bits: number, reader: SshWireReader): number {
  const application = reader.readString();
  // OpenSSH reads this as a C string, so an embedded NUL would be truncated there.
  if (application.includes(0)) {
    throw new InvalidKeyError('malformed', 'The security key application name in the key data is damaged.');
  }
  return bits;
}

function readEcdsa(reader: SshWireReader, expected: CurveName): number {
  const curveName = reader.readAscii();
  if (curveName !== expected) {
    const actual = Object.hasOwn(CURVES, curveName) ? curveName : 'a different curve';
    throw new InvalidKeyError('type-mismatch', `The key line says ${expected}, but the key data uses ${actual}.`);
  }
  const curve = CURVES[expected];
  checkPointOnCurve(reader.readString(), curve.coordinateBytes, curve.jwkName);
  return curve.bits;
}

/**
 * OpenSSH only accepts uncompressed points, and rejects points off the curve
 * (a classic invalid-curve attack vector); node:crypto's JWK import performs
 * the on-curve check for us.
 */
function checkPointOnCurve(point: Buffer, coordinateBytes: number, jwkName: string): void {
  if (point.length !== 1 + 2 * coordinateBytes || point[0] !== 0x04) {
    throw new InvalidKeyError('malformed', 'The ECDSA public point in the key data has the wrong size or encoding.');
  }
  const x = point.subarray(1, 1 + coordinateBytes).toString('base64url');
  const y = point.subarray(1 + coordinateBytes).toString('base64url');
  try {
    createPublicKey({ key: { kty: 'EC', crv: jwkName, x, y }, format: 'jwk' });
  } catch {
    throw new InvalidKeyError('invalid-point', 'The ECDSA public point in the key data is not on its curve; the key is damaged.');
  }
}

function readRsa(reader: SshWireReader): number {
  const exponent = reader.readPositiveMpint();
  const modulus = reader.readPositiveMpint();
  // An even or tiny exponent (or even modulus) cannot come from a real RSA key generator.
  if (!isOdd(exponent) || bitLength(exponent) < 2 || !isOdd(modulus)) {
    throw new InvalidKeyError('malformed', 'The RSA numbers in the key data are not a valid RSA public key.');
  }
  const bits = bitLength(modulus);
  if (bits < RSA_MIN_BITS) {
    throw new InvalidKeyError('rsa-too-short', `RSA keys need ${RSA_MIN_BITS} bits or more; this one has ${bits}.`);
  }
  if (bits > RSA_MAX_BITS) {
    throw new InvalidKeyError('rsa-too-long', `RSA keys over ${RSA_MAX_BITS} bits cannot be used with OpenSSH; this one has ${bits}.`);
  }
  return bits;
}

function isOdd(magnitude: Buffer): boolean {
  return ((magnitude[magnitude.length - 1] ?? 0) & 1) === 1;
}

import { generateKeyPairSync } from 'node:crypto';
import { importPKCS8, importSPKI, jwtVerify, SignJWT, errors } from 'jose';

/**
 * Access tokens are EdDSA (Ed25519) JWTs: accounts holds the private key and
 * signs; every other service holds only the public key, so a compromised
 * service can read tokens but never mint them.
 */
const algorithm = 'EdDSA';
const issuer = 'tmuxme';
const audience = 'tmuxme';

export interface Principal {
  userId: string;
  username: string;
}

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
  constructor(readonly reason: 'expired' | 'invalid', message: string) {
    super(message);
  }
}

export interface TokenSigner {
  expiresIn: number;
  sign(principal: Principal): Promise<string>;
}

export async function createSigner(privateKeyPem: string, expiresInSeconds: number): Promise<TokenSigner> {
  const key = await importPKCS8(privateKeyPem, algorithm);
  return {
    expiresIn: expiresInSeconds,
    sign: ({ userId, username }) => new SignJWT({ username })
      .setProtectedHeader({ alg: algorithm })
      .setSubject(userId)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${expiresInSeconds}s`)
      .sign(key),
  };
}

export type TokenVerifier = (token: string) => Promise<Principal>;

export async function createVerifier(publicKeyPem: string): Promise<TokenVerifier> {
  const key = await importSPKI(publicKeyPem, algorithm);
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, { issuer, audience, algorithms: [algorithm] });
      if (typeof payload.sub !== 'string' || typeof payload.username !== 'string') {
        throw new InvalidTokenError('invalid', 'The access token does not name a user.');
      }
      return { userId: payload.sub, username: payload.username };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      if (error instanceof errors.JWTExpired) throw new InvalidTokenError('expired', 'The access token has expired; log in again.');
      throw new InvalidTokenError('invalid', 'The access token is not valid.');
    }
  };
}

/** A fresh Ed25519 key pair in PEM, for local runs and tests. */
export function generateSigningKeys(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

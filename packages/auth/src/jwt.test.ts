import { describe, expect, it } from '@jest/globals';
import { createSigner, createVerifier, generateSigningKeys, InvalidTokenError } from './index.js';

describe('access tokens', () => {
  const keys = generateSigningKeys();

  it('verifies what the private key signed', async () => {
    const token = await (await createSigner(keys.privateKey, 60)).sign({ userId: 'u1', username: 'alice' });
    expect(await (await createVerifier(keys.publicKey))(token)).toEqual({ userId: 'u1', username: 'alice' });
  });

  it('refuses a token from another key, a tampered one and an expired one', async () => {
    const verify = await createVerifier(keys.publicKey);
    const other = await (await createSigner(generateSigningKeys().privateKey, 60)).sign({ userId: 'u1', username: 'alice' });
    await expect(verify(other)).rejects.toMatchObject({ reason: 'invalid' });
    const good = await (await createSigner(keys.privateKey, 60)).sign({ userId: 'u1', username: 'alice' });
    const [h, , s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'u2', username: 'bob' })).toString('base64url')}.${s}`;
    await expect(verify(forged)).rejects.toBeInstanceOf(InvalidTokenError);
    const expired = await (await createSigner(keys.privateKey, -10)).sign({ userId: 'u1', username: 'alice' });
    await expect(verify(expired)).rejects.toMatchObject({ reason: 'expired' });
    await expect(verify('not-a-jwt')).rejects.toMatchObject({ reason: 'invalid' });
  });
});

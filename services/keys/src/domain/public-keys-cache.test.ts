import { describe, expect, it } from '@jest/globals';
import { PublicKeysCache } from './public-keys-cache.js';

describe('PublicKeysCache', () => {
  it('answers from memory until invalidated or expired', async () => {
    const cache = new PublicKeysCache<number>(50);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('alice', load)).toBe(1);
    expect(await cache.get('alice', load)).toBe(1);
    cache.invalidate('alice');
    expect(await cache.get('alice', load)).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(await cache.get('alice', load)).toBe(3);
  });

  it('keeps nothing with a zero TTL, never caches a failure, and stays bounded', async () => {
    const off = new PublicKeysCache<number>(0);
    let loads = 0;
    await off.get('a', async () => ++loads);
    await off.get('a', async () => ++loads);
    expect(loads).toBe(2);

    const cache = new PublicKeysCache<number>(1000, 2);
    await expect(cache.get('ghost', async () => { throw new Error('no such user'); })).rejects.toThrow('no such user');
    expect(await cache.get('ghost', async () => 7)).toBe(7);
    await cache.get('b', async () => 1);
    await cache.get('c', async () => 1);
    expect(await cache.get('ghost', async () => 8)).toBe(8); // the oldest entry made room
  });
});

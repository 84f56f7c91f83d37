import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SnapshotSource } from './snapshot-source.js';

/** What a converging box accepts as a snapshot: every page, each a whole page, since what a snapshot lacks gets tombstoned. */
const lease = { leaseId: 'l1', userId: 'u1', username: 'ann', tunnelHost: 'box.test', port: 20001, expiresAt: '2026-01-01T00:00:00.000Z' };
const session = { sessionId: 's1', hostUserId: 'u1', port: 20001, guestUserIds: ['u2', 'u3'] };
const key = (keyId: string) => ({ keyId, userId: 'u1', username: 'ann', type: 'ssh-ed25519', key: `ssh-ed25519 AAAA${keyId}`, fingerprint: 'SHA256:x' });
/** The keys route's pages by `after`; a test changes them. */
let keyPages: Record<string, unknown> = {};
const asked: string[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const { pathname, searchParams } = new URL(request.url!, 'http://x');
    asked.push(request.url!);
    let page: unknown;
    if (pathname.endsWith('/keys')) page = keyPages[searchParams.get('after') ?? ''];
    else if (pathname.endsWith('/sessions')) page = searchParams.get('boxId') === 'box-1' ? { items: [session], next: null } : { items: [lease], next: null };
    // One lease from before private leases, without the field: public.
    else page = { items: [{ ...lease, private: true }, { ...lease, leaseId: 'l3', port: 20003 }], next: null };
    response.writeHead(page ? 200 : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(page ?? { statusCode: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const source = (boxId = 'box-1') => new SnapshotSource({ keysUrl: url, sessionsUrl: url, serviceToken: 'token', boxId });

describe('snapshot source', () => {
  it('reads every page of the three snapshots, following next', async () => {
    keyPages = { '': { items: [key('k1'), key('k2')], next: 'k2' }, k2: { items: [key('k3')], next: null } };
    asked.length = 0;
    expect(await source().read()).toEqual({
      keys: ['k1', 'k2', 'k3'].map((keyId) => ({ keyId, userId: 'u1', key: `ssh-ed25519 AAAA${keyId}` })),
      leases: [{ leaseId: 'l1', userId: 'u1', port: 20001, private: true }, { leaseId: 'l3', userId: 'u1', port: 20003, private: false }],
      sessions: [session],
    });
    expect(asked.filter((asking) => asking.includes('/keys'))).toEqual([
      '/internal/v1/snapshot/keys?limit=5000', '/internal/v1/snapshot/keys?limit=5000&after=k2',
    ]);
    expect(asked).toContain('/internal/v1/snapshot/leases?boxId=box-1&limit=5000');
  });

  it('fails the whole read on a missing page, a page that is not one, or a cursor that does not move on', async () => {
    keyPages = { '': { items: [key('k1')], next: 'k1' } };
    await expect(source().read()).rejects.toThrow(/after=k1 answered 404/);
    keyPages = { '': { items: [{ keyId: 'k1' }], next: null } };
    await expect(source().read()).rejects.toThrow(/not a snapshot page/);
    keyPages = { '': { items: [key('k2')], next: 'k2' }, k2: { items: [key('k1')], next: 'k1' } };
    await expect(source().read()).rejects.toThrow(/does not move on: k1/);
  });

  it('fails the whole read when the sessions page is not one', async () => {
    keyPages = { '': { items: [key('k1')], next: null } };
    // This server answers another box's sessions path with lease items.
    await expect(source('elsewhere').read()).rejects.toThrow(/snapshot\/sessions\?boxId=elsewhere&limit=5000 answered something that is not a snapshot page/);
  });
});

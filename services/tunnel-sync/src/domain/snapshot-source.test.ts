import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SnapshotSource } from './snapshot-source.js';

/** What a converging box accepts as a snapshot: whole streams only, since what a snapshot lacks gets tombstoned. */
const lease = { leaseId: 'l1', userId: 'u1', username: 'ann', tunnelHost: 'box.test', port: 20001, expiresAt: '2026-01-01T00:00:00.000Z' };
const session = { sessionId: 's1', hostUserId: 'u1', port: 20001, guestUserIds: ['u2', 'u3'] };
const key = { keyId: 'k1', userId: 'u1', username: 'ann', type: 'ssh-ed25519', key: 'ssh-ed25519 AAAA', fingerprint: 'SHA256:x' };
let keysBody = '';
let server: Server;
let source: SnapshotSource;

beforeAll(async () => {
  server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (request.url?.startsWith('/internal/v1/snapshot/keys')) {
      // Sent in two writes split mid-line, as a real stream may arrive.
      response.write(keysBody.slice(0, 10));
      response.end(keysBody.slice(10));
    } else if (request.url?.startsWith('/internal/v1/snapshot/sessions?boxId=box-1')) {
      response.end(`${JSON.stringify(session)}\n{"end":true,"count":1}\n`);
    } else {
      // One lease line from before private leases, without the field: public.
      const lines = [{ ...lease, private: true }, { ...lease, leaseId: 'l3', port: 20003 }];
      response.end(`${lines.map((line) => JSON.stringify(line)).join('\n')}\n{"end":true,"count":2}\n`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  source = new SnapshotSource({ keysUrl: url, sessionsUrl: url, serviceToken: 'token', boxId: 'box-1' });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('snapshot source', () => {
  it('reads the three streams whole', async () => {
    keysBody = `${JSON.stringify(key)}\n{"end":true,"count":1}\n`;
    expect(await source.read()).toEqual({
      keys: [{ keyId: 'k1', userId: 'u1', key: 'ssh-ed25519 AAAA' }],
      leases: [{ leaseId: 'l1', userId: 'u1', port: 20001, private: true }, { leaseId: 'l3', userId: 'u1', port: 20003, private: false }],
      sessions: [session],
    });
  });

  it('refuses a stream cut before its last line, or whose count does not match', async () => {
    keysBody = `${JSON.stringify(key)}\n`;
    await expect(source.read()).rejects.toThrow(/cut short/);
    keysBody = `${JSON.stringify(key)}\n{"end":true,"count":2}\n`;
    await expect(source.read()).rejects.toThrow(/not a snapshot item/);
  });

  it('fails the whole read when the sessions stream is not one', async () => {
    keysBody = `${JSON.stringify(key)}\n{"end":true,"count":1}\n`;
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // This server answers another box's sessions path with lease lines.
    const elsewhere = new SnapshotSource({ keysUrl: url, sessionsUrl: url, serviceToken: 'token', boxId: 'elsewhere' });
    await expect(elsewhere.read()).rejects.toThrow(/snapshot\/sessions\?boxId=elsewhere sent a line that is not a snapshot item/);
  });
});

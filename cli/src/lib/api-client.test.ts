import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, TmuxmeApi } from './api-client.js';

/**
 * The client's transport, against a real HTTP server on loopback that answers as the API does and counts
 * the TCP connections it is opened. What the answers mean is tested against the real services in e2e/.
 */
let server: Server;
let url: string;
let connections = 0;
/** Each request's method, path and body, as the server read them. */
const requests: { method?: string; url?: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    let body = '';
    for await (const chunk of request) body += chunk;
    requests.push({ method: request.method, url: request.url, body });
    if (request.url === '/api/v1/users/never-answered/keys.json') return;
    if (request.url === '/api/v1/auth/token') return json(200, { accessToken: 'jwt', expiresIn: 600 });
    if (request.url?.startsWith('/api/v1/pairing/port')) return json(200, { port: 20001 });
    if (request.url === '/api/v1/pairing/sessions/s1/move') return json(200, { id: 's1', port: 20002, boxId: 'box-2' });
    if (request.url === '/api/v1/pairing/sessions/s2/move') {
      return json(409, { statusCode: 409, error: 'Conflict', code: 'SESSION_MOVED', message: 'The session changed while it was being moved; read it again.' });
    }
    if (request.url?.startsWith('/api/v1/users/')) return json(200, []);
    json(404, { code: 'NOT_FOUND', message: 'No such thing.' });
  });
  // Longer than any test: a connection that closes is closed by the client, not by the server's timer.
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => { connections += 1; });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

describe('the API client\'s connections', () => {
  it('reuses one connection for calls one after another, signed in or not', async () => {
    const api = new TmuxmeApi({ server: url, apiToken: 'tmx_test' });
    const before = connections;
    for (let i = 0; i < 5; i += 1) await api.publicKeys('alice');
    await api.leasePort();
    await api.leasePort();
    expect(connections - before).toBe(1);
  });

  it('opens no more connections than calls in flight at once, and reuses them after', async () => {
    const api = new TmuxmeApi({ server: url, apiToken: 'tmx_test' });
    const before = connections;
    await Promise.all([api.publicKeys('alice'), api.publicKeys('bob'), api.leasePort()]);
    const opened = connections - before;
    expect(opened).toBeLessThanOrEqual(3);
    await Promise.all([api.publicKeys('alice'), api.publicKeys('bob'), api.leasePort()]);
    expect(connections - before).toBe(opened);
  });

  it('says when the server does not answer in time, or cannot be reached', async () => {
    const impatient = new TmuxmeApi({ server: url, timeoutMs: 200 });
    await expect(impatient.publicKeys('never-answered')).rejects.toThrow(/no answer within 0\.2 s/);
    const closed = new TmuxmeApi({ server: 'http://127.0.0.1:9' });
    const refusal = await closed.publicKeys('alice').catch((error: unknown) => error as ApiError);
    expect(refusal).toMatchObject({ code: 'SERVER_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('lets a command exit while its connection is kept open for the next call', async () => {
    const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const script = `import { TmuxmeApi } from './src/lib/api-client.ts'; await new TmuxmeApi({ server: ${JSON.stringify(url)} }).publicKeys('alice');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: cliDir, stdio: 'ignore' });
    // The server would hold the idle connection for a minute: an exit within seconds means it did not hold the process.
    const code = await new Promise<number | null>((done) => {
      const timer = setTimeout(() => { child.kill(); done(-1); }, 15_000);
      child.once('close', (exitCode) => { clearTimeout(timer); done(exitCode); });
    });
    expect(code).toBe(0);
  }, 20_000);
});

describe('the API client\'s requests for moving a session', () => {
  it('asks for a lease away from a box, and moves a session onto a lease, refusals keeping their codes', async () => {
    const api = new TmuxmeApi({ server: url, apiToken: 'tmx_test' });
    const sent = requests.length;
    await api.leasePort();
    await api.leasePort({ private: true, avoidBox: 'box-1' });
    expect(await api.moveSession('s1', 'l2')).toEqual({ id: 's1', port: 20002, boxId: 'box-2' });
    await expect(api.moveSession('s2', 'l3')).rejects.toMatchObject({ status: 409, code: 'SESSION_MOVED' });
    expect(requests.slice(sent).filter((request) => request.url !== '/api/v1/auth/token')).toEqual([
      { method: 'GET', url: '/api/v1/pairing/port', body: '' },
      { method: 'GET', url: '/api/v1/pairing/port?private=true&avoidBox=box-1', body: '' },
      { method: 'POST', url: '/api/v1/pairing/sessions/s1/move', body: '{"leaseId":"l2"}' },
      { method: 'POST', url: '/api/v1/pairing/sessions/s2/move', body: '{"leaseId":"l3"}' },
    ]);
  });
});

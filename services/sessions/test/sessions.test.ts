import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, generateSshKey, testAmqpUrl, type GeneratedKey } from '@tmuxme/testing';
import { Accounts, buildSessionsApp, sessionsOptions, tunnelBoxKey, type SessionsApp } from './sessions-app.js';

/** A host declares a session, guests find it, heartbeats keep it, and the host ends it: with the events. */
let app: SessionsApp;
let accounts: Accounts;
let spy: EventSpy;
let hostKey: GeneratedKey;
const auth: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  const options = await sessionsOptions();
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
  for (const name of ['hana', 'alice', 'bob', 'stranger']) auth[name] = (await accounts.register(app, name)).auth;
  hostKey = await generateSshKey('ed25519', undefined, 'root@hana-laptop');
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, '#');
});
afterAll(async () => {
  await Promise.all([app?.close(), accounts?.close(), spy?.stop()]);
});

const as = (name: string) => auth[name]!;
const leasePort = async (name: string) => (await app.inject({ url: '/api/v1/pairing/port', headers: as(name) })).json() as { port: number; leaseId: string };
const declare = (name: string, payload: unknown) =>
  app.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: { ...as(name), 'x-request-id': 'req-declare' }, payload: payload as object });

describe('a session from declaration to its end', () => {
  let session: Record<string, unknown> & { id: string; port: number; expiresAt: string };
  let leaseId: string;

  it('declares: guests folded, join commands, host key pinned, SessionDeclared published', async () => {
    const lease = await leasePort('hana');
    leaseId = lease.leaseId;
    const guests = ['ALICE', { username: 'bob', access: 'ro' }, { username: 'alice', access: 'ro' }];
    const response = await declare('hana', { port: lease.port, guests, hostKey: hostKey.publicKey });
    expect(response.statusCode).toBe(201);
    session = response.json();
    const [type, blob] = hostKey.publicKey.split(' ');
    const [boxType, boxBlob] = (await tunnelBoxKey()).publicKey.split(' ');
    const joinCommand = `ssh -p ${lease.port} tmuxme@127.0.0.1`;
    const pinnedJoinCommand = `ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand="/bin/echo %H ${type} ${blob}" -p ${lease.port} tmuxme@127.0.0.1`;
    const jumpJoinCommand = `ssh -J join@127.0.0.1:2222 -o HostKeyAlias=127.0.0.1:${lease.port} -p ${lease.port} tmuxme@127.0.0.1`;
    const pinnedJumpJoinCommand = `ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand="/bin/echo %H ${type} ${blob}" `
      + `-o ProxyCommand="ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand='/bin/echo %%H ${boxType} ${boxBlob}' `
      + `-p 2222 -W %h:%p join@127.0.0.1" -p ${lease.port} tmuxme@127.0.0.1`;
    expect(session).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/), role: 'host', host: { username: 'hana' }, port: lease.port, boxId: 'box-1', tunnelHost: '127.0.0.1', tunnelPort: 2222,
      private: false, guests: [{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }],
      joinCommand, jumpJoinCommand, tunnelHostKey: `${boxType} ${boxBlob}`, hostKey: `${type} ${blob}`, hostKeyFingerprint: hostKey.fingerprint,
      pinnedJoinCommand, pinnedJumpJoinCommand, createdAt: expect.any(String), expiresAt: expect.any(String),
    });
    expect(Date.parse(session.expiresAt) - Date.now()).toBeGreaterThan(85_000);

    const [declared] = await spy.waitFor('SessionDeclared');
    expect(declared).toMatchObject({ producer: 'sessions', routingKey: 'session.declared.box-1', requestId: 'req-declare' });
    expect(declared!.data).toEqual({
      sessionId: session.id, host: { userId: 'u-hana', username: 'hana' },
      guests: [{ userId: 'u-alice', username: 'alice', access: 'rw' }, { userId: 'u-bob', username: 'bob', access: 'ro' }],
      boxId: 'box-1', tunnelHost: '127.0.0.1', tunnelPort: 2222, port: lease.port, private: false,
      joinCommand, jumpJoinCommand, hostKeyFingerprint: hostKey.fingerprint, pinnedJoinCommand, pinnedJumpJoinCommand,
    });
  });

  it('shows the session to its host and guests, with their role, and to nobody else', async () => {
    const list = async (name: string) => (await app.inject({ url: '/api/v1/pairing/sessions', headers: as(name) })).json();
    expect(await list('hana')).toEqual([session]);
    expect(await list('alice')).toEqual([{ ...session, role: 'guest' }]);
    expect(await list('stranger')).toEqual([]);
    const one = await app.inject({ url: `/api/v1/pairing/sessions/${session.id}`, headers: as('bob') });
    expect(one.json()).toEqual({ ...session, role: 'guest' });
    const hidden = await app.inject({ url: `/api/v1/pairing/sessions/${session.id}`, headers: as('stranger') });
    expect(hidden.json()).toMatchObject({ statusCode: 404, code: 'SESSION_NOT_FOUND' });
  });

  it('a heartbeat from the host extends the session; guests cannot send one', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const beat = await app.inject({ method: 'POST', url: `/api/v1/pairing/sessions/${session.id}/heartbeat`, headers: as('hana') });
    expect(beat.statusCode).toBe(200);
    expect(Date.parse(beat.json().expiresAt)).toBeGreaterThan(Date.parse(session.expiresAt));
    const shown = await app.inject({ url: `/api/v1/pairing/sessions/${session.id}`, headers: as('hana') });
    expect(shown.json().expiresAt).toBe(beat.json().expiresAt);
    const guest = await app.inject({ method: 'POST', url: `/api/v1/pairing/sessions/${session.id}/heartbeat`, headers: as('alice') });
    expect(guest.json()).toMatchObject({ statusCode: 403, code: 'NOT_SESSION_HOST' });
  });

  it('a second session cannot be declared on the same port', async () => {
    const again = await declare('hana', { port: session.port, guests: ['bob'] });
    expect(again.json()).toMatchObject({ statusCode: 409, code: 'PORT_IN_SESSION' });
  });

  it('DELETE ends it: SessionEnded (ended) and PortReleased, the port and slot are free, the port no longer leased', async () => {
    const ended = await app.inject({ method: 'DELETE', url: `/api/v1/pairing/sessions/${session.id}`, headers: { ...as('hana'), 'x-request-id': 'req-end' } });
    expect(ended.statusCode).toBe(204);
    const [end] = await spy.waitFor('SessionEnded');
    expect(end).toMatchObject({ routingKey: 'session.ended.box-1', requestId: 'req-end', data: { sessionId: session.id, boxId: 'box-1', reason: 'ended' } });
    const [released] = await spy.waitFor('PortReleased');
    expect(released).toMatchObject({ requestId: 'req-end', data: { leaseId, userId: 'u-hana', username: 'hana', boxId: 'box-1', tunnelHost: '127.0.0.1', port: session.port } });
    expect(await app.db.collection('port_claims').countDocuments({ leaseId })).toBe(0);
    expect(await app.db.collection('lease_slots').countDocuments({ leaseId })).toBe(0);

    expect((await app.inject({ url: '/api/v1/pairing/sessions', headers: as('alice') })).json()).toEqual([]);
    const gone = await app.inject({ method: 'POST', url: `/api/v1/pairing/sessions/${session.id}/heartbeat`, headers: as('hana') });
    expect(gone.json()).toMatchObject({ statusCode: 404, code: 'SESSION_NOT_FOUND' });
    const reuse = await declare('hana', { port: session.port, guests: ['bob'] });
    expect(reuse.json()).toMatchObject({ statusCode: 403, code: 'PORT_NOT_LEASED' });
  });

  it('declares without a host key: no fingerprint, no pinned command', async () => {
    const lease = await leasePort('hana');
    const response = await declare('hana', { port: lease.port, guests: ['bob'] });
    expect(response.statusCode).toBe(201);
    expect(response.json()).not.toHaveProperty('pinnedJoinCommand');
    expect(response.json()).not.toHaveProperty('hostKeyFingerprint');
    expect(response.json()).not.toHaveProperty('hostKey');
    expect(response.json()).not.toHaveProperty('pinnedJumpJoinCommand');
    expect(response.json()).toMatchObject({ jumpJoinCommand: `ssh -J join@127.0.0.1:2222 -o HostKeyAlias=127.0.0.1:${lease.port} -p ${lease.port} tmuxme@127.0.0.1` });
    const declared = await spy.waitFor('SessionDeclared', 2);
    expect(declared[1]!.data).not.toHaveProperty('pinnedJoinCommand');
    expect(declared[1]!.data).not.toHaveProperty('pinnedJumpJoinCommand');
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, eventually, generateSshKey, testAmqpUrl, type GeneratedKey } from '@tmuxme/testing';
import { Accounts, announceBox, buildSessionsApp, defaultBox, sessionsOptions, tunnelBoxKey, type SessionsApp } from './sessions-app.js';

/**
 * Private sessions, whose port answers on the box's loopback only, and the box key the jump commands
 * pin: the one the lease saw.
 */
let app: SessionsApp;
let options: Awaited<ReturnType<typeof sessionsOptions>>;
let accounts: Accounts;
let spy: EventSpy;
let hostKey: GeneratedKey;
let newBoxKey: GeneratedKey;
const auth: Record<string, { authorization: string }> = {};

beforeAll(async () => {
  options = await sessionsOptions();
  newBoxKey = await generateSshKey('ed25519', undefined, 'root@tunnel-box');
  app = await buildSessionsApp(options);
  accounts = await Accounts.connect(options);
  for (const name of ['petra', 'quinn', 'rosa']) auth[name] = (await accounts.register(app, name)).auth;
  hostKey = await generateSshKey('ed25519', undefined, 'root@petra-laptop');
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!, 'session.#');
});
afterAll(async () => {
  await Promise.all([app?.close(), accounts?.close(), spy?.stop()]);
});

const keyLine = (key: GeneratedKey) => key.publicKey.split(' ').slice(0, 2).join(' ');
const lease = async (target: SessionsApp, query = '') =>
  (await target.inject({ url: `/api/v1/pairing/port${query}`, headers: auth.petra })).json() as { port: number; leaseId: string; tunnelHostKey: string };
const declare = (target: SessionsApp, payload: object) =>
  target.inject({ method: 'POST', url: '/api/v1/pairing/sessions', headers: auth.petra, payload });
const shown = async (id: string, name = 'petra') => (await app.inject({ url: `/api/v1/pairing/sessions/${id}`, headers: auth[name] })).json();
const declaredEvent = (sessionId: string) => eventually(() => spy.ofType('SessionDeclared').find((e) => e.data.sessionId === sessionId));

describe('private sessions', () => {
  it('declared with "private": true on a private lease, they offer the jump commands only, in the resource and in SessionDeclared', async () => {
    const { port } = await lease(app, '?private=true');
    const response = await declare(app, { port, guests: ['quinn', { username: 'rosa', access: 'ro' }], hostKey: hostKey.publicKey, private: true });
    expect(response.statusCode).toBe(201);
    const session = response.json();
    const jump = `ssh -J join@127.0.0.1:2222 -o HostKeyAlias=127.0.0.1:${port} -p ${port} tmuxme@127.0.0.1`;
    expect(session).toMatchObject({ private: true, port, tunnelPort: 2222, joinCommand: jump, jumpJoinCommand: jump, tunnelHostKey: keyLine(await tunnelBoxKey()) });
    expect(session.pinnedJumpJoinCommand).toContain(`-o ProxyCommand="ssh `);
    expect(session.pinnedJoinCommand).toBe(session.pinnedJumpJoinCommand);
    expect(await shown(session.id, 'rosa')).toEqual({ ...session, role: 'guest' });

    const event = await declaredEvent(session.id);
    expect(event!.data).toMatchObject({
      private: true, tunnelPort: 2222, port, joinCommand: jump, jumpJoinCommand: jump,
      pinnedJoinCommand: session.pinnedJumpJoinCommand, pinnedJumpJoinCommand: session.pinnedJumpJoinCommand,
      guests: [{ userId: 'u-quinn', username: 'quinn', access: 'rw' }, { userId: 'u-rosa', username: 'rosa', access: 'ro' }],
    });
    expect(await app.db.collection('sessions').findOne({ port })).toMatchObject({ private: true, tunnelHostKey: keyLine(await tunnelBoxKey()) });
  });

  it('pin the box key their lease was given, even when the box has a new one by the time they are declared', async () => {
    const { port } = await lease(app);
    await announceBox(app, options, { ...await defaultBox(), hostKey: newBoxKey.publicKey });
    const session = (await declare(app, { port, guests: ['quinn'], hostKey: hostKey.publicKey })).json();
    expect(session.tunnelHostKey).toBe(keyLine(await tunnelBoxKey()));
    expect(session.pinnedJumpJoinCommand).toContain(`'/bin/echo %%H ${keyLine(await tunnelBoxKey())}'`);
    const { port: laterPort } = await lease(app);
    expect((await declare(app, { port: laterPort, guests: ['quinn'] })).json().tunnelHostKey).toBe(keyLine(newBoxKey));
  });
});

describe('documents from before private sessions', () => {
  const forget = (collection: string, port: number) =>
    app.db.collection(collection).updateOne({ port }, { $unset: { private: '', tunnelHostKey: '' } });

  it('a lease without the fields is public, and its session has no box key to pin the jump hop with', async () => {
    const { port } = await lease(app);
    await forget('leases', port);
    expect((await declare(app, { port, guests: ['quinn'], private: true })).json()).toMatchObject({ statusCode: 400, code: 'PRIVATE_MISMATCH' });
    const session = (await declare(app, { port, guests: ['quinn'], hostKey: hostKey.publicKey })).json();
    expect(session).toMatchObject({ private: false, joinCommand: `ssh -p ${port} tmuxme@127.0.0.1` });
    expect(session.pinnedJoinCommand).toContain(keyLine(hostKey));
    expect(session).not.toHaveProperty('tunnelHostKey');
    expect(session).not.toHaveProperty('pinnedJumpJoinCommand');
  });

  it('a session without them shows as public', async () => {
    const { port } = await lease(app);
    const session = (await declare(app, { port, guests: ['rosa'], hostKey: hostKey.publicKey })).json();
    await forget('sessions', port);
    const { tunnelHostKey: _key, pinnedJumpJoinCommand: _pinned, ...rest } = session;
    expect(await shown(session.id)).toEqual(rest);
  });
});

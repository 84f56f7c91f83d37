import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { announceTunnelBox, testAmqpUrl, type TunnelBoxAnnouncement } from '@tmuxme/testing';
import { announceBox, bearerFor, buildSessionsApp, defaultBox, sessionsOptions, type SessionsApp } from './sessions-app.js';

/** Where leases go when boxes announce themselves: least loaded first, never on a draining, silent or avoided box. */
let app: SessionsApp;
let options: Awaited<ReturnType<typeof sessionsOptions>>;
let boxOne: TunnelBoxAnnouncement;
let boxTwo: TunnelBoxAnnouncement;

beforeAll(async () => {
  options = await sessionsOptions({ maxLeasesPerUser: 50 });
  boxOne = await defaultBox();
  boxTwo = { ...boxOne, boxId: 'box-2', tunnelHost: 'box-2.example.org', tunnelPort: 22, portRange: { from: 40000, to: 40999 } };
  app = await buildSessionsApp(options, { boxes: [] });
});
afterAll(async () => {
  await app?.close();
});

const lease = async (username: string, query = '', target = app) => {
  const response = await target.inject({ url: `/api/v1/pairing/port${query}`, headers: await bearerFor({ userId: `u-${username}`, username }) });
  return { status: response.statusCode, body: response.json(), retryAfter: response.headers['retry-after'] };
};
const giveBack = async (username: string, leaseId: string, target = app) =>
  target.inject({ method: 'DELETE', url: `/api/v1/pairing/port/${leaseId}`, headers: await bearerFor({ userId: `u-${username}`, username }) });

/** Leases `count` ports for several users, gives them back, and counts them by box. */
async function placeLeases(count: number, query = '', target = app) {
  const held = [];
  for (let i = 0; i < count; i += 1) {
    const answer = await lease(`user-${i % 4}`, query, target);
    expect(answer.status).toBe(200);
    held.push({ username: `user-${i % 4}`, ...answer.body });
  }
  for (const { username, leaseId } of held) expect((await giveBack(username, leaseId, target)).statusCode).toBe(204);
  const byBox: Record<string, number> = {};
  for (const { boxId } of held) byBox[boxId] = (byBox[boxId] ?? 0) + 1;
  return { byBox, held };
}

const announce = (box: TunnelBoxAnnouncement) => announceBox(app, options, box);

describe('placing leases on the boxes', () => {
  it('answers 503 NO_TUNNEL_BOX, with Retry-After, before any box has announced itself', async () => {
    expect(await lease('early')).toMatchObject({ status: 503, body: { code: 'NO_TUNNEL_BOX', message: expect.stringContaining('No tunnel box') }, retryAfter: '30' });
  });

  it('spreads 20 leases from several users evenly over two boxes, least loaded first, each with its box', async () => {
    await announce(boxOne);
    await announce(boxTwo);
    const { byBox, held } = await placeLeases(20);
    expect(byBox).toEqual({ 'box-1': 10, 'box-2': 10 });
    const onTwo = held.find((l) => l.boxId === 'box-2');
    expect(onTwo).toMatchObject({ tunnelHost: 'box-2.example.org', tunnelPort: 22, port: expect.any(Number) });
    expect(onTwo.port).toBeGreaterThanOrEqual(40000);
  });

  it('puts new leases on the box with fewer live leases', async () => {
    // Heartbeats carry every box's count afresh, as tunnel-sync sends them every few seconds.
    await announce(boxOne);
    await announce({ ...boxTwo, liveLeases: 8 });
    const { byBox } = await placeLeases(12);
    expect(byBox).toEqual({ 'box-1': 10, 'box-2': 2 });
  });

  it('gives a draining box no new lease, and uses it again once it stops draining', async () => {
    await announce({ ...boxTwo, draining: true });
    expect((await placeLeases(6)).byBox).toEqual({ 'box-1': 6 });
    await announce(boxOne);
    await announce(boxTwo);
    expect((await placeLeases(6)).byBox).toEqual({ 'box-1': 3, 'box-2': 3 });
  });

  it('leases elsewhere than an avoided box, and says so when there is no other', async () => {
    expect((await placeLeases(3, '?avoidBox=box-1')).byBox).toEqual({ 'box-2': 3 });
    await announce({ ...boxTwo, draining: true });
    expect(await lease('mover', '?avoidBox=box-1')).toMatchObject({ status: 503, body: { code: 'NO_TUNNEL_BOX', message: expect.stringContaining('other than box-1') } });
    await announce(boxTwo);
  });

  it('gives a box whose heartbeats stopped no new lease, and uses it again when they come back', async () => {
    const silenceMs = 1500;
    const quick = await sessionsOptions({ boxSilenceMs: silenceMs });
    const hasty = await buildSessionsApp(quick, { boxes: [boxOne, boxTwo] });
    try {
      await new Promise((resolve) => setTimeout(resolve, silenceMs + 200));
      await announceBox(hasty, quick, boxOne);
      expect((await placeLeases(4, '', hasty)).byBox).toEqual({ 'box-1': 4 });
      await announceBox(hasty, quick, boxOne);
      await announceBox(hasty, quick, boxTwo);
      expect((await placeLeases(4, '', hasty)).byBox).toEqual({ 'box-1': 2, 'box-2': 2 });
    } finally {
      await hasty.close();
    }
  });

  it('keeps the newest heartbeat when an older one arrives late', async () => {
    await announce({ ...boxTwo, at: new Date(Date.now() + 60_000).toISOString() });
    await announceTunnelBox(testAmqpUrl(), options.exchange!, { ...boxTwo, draining: true });
    // The late one is handled (or not) by the time a later box's heartbeat is recorded.
    await announce(boxOne);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await app.db.collection('boxes').findOne({ _id: 'box-2' as never })).toMatchObject({ draining: false });
  });

  it.each([
    ['a port range below 1024', { portRange: { from: 80, to: 90 } }],
    ['a port range upside down', { portRange: { from: 41000, to: 40000 } }],
    ["a port range holding the box's own sshd port", { tunnelPort: 40022, portRange: { from: 40000, to: 40999 } }],
    ['a private key instead of a host key', { hostKey: '-----BEGIN OPENSSH PRIVATE KEY-----' }],
  ])('leaves out a box that announces %s', async (_name, flaw) => {
    const boxId = `flawed-${Math.random().toString(36).slice(2, 8)}`;
    await announceTunnelBox(testAmqpUrl(), options.exchange!, { ...boxTwo, ...flaw, boxId });
    await announce(boxOne);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await app.db.collection('boxes').findOne({ _id: boxId as never })).toBeNull();
  });
});

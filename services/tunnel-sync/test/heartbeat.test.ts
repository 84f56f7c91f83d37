import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventSpy, freePort, startTunnelBox, testAmqpUrl, type TunnelBox } from '@tmuxme/testing';
import {
  barrier, boxId, buildTunnelSyncApp, keyLines, newId, producer, tunnelSyncOptions, type Producer, type TunnelSyncTestApp,
} from './tunnel-sync-app.js';

/** The box announces itself to sessions while its sshd answers, draining or not, and only its own box's leases reach it. */
let box: TunnelBox;
let app: TunnelSyncTestApp;
let spy: EventSpy;
let events: Producer;
let options: ReturnType<typeof tunnelSyncOptions>;
const intervalMs = 300;

const heartbeat = (overrides: { sshdPort?: number; draining?: boolean } = {}) => ({
  tunnelPort: box.port, hostKey: box.hostPublicKey, portRange: { from: 20000, to: 29999 }, draining: overrides.draining ?? false,
  intervalMs, sshd: { host: '127.0.0.1', port: overrides.sshdPort ?? box.port },
});
const beatsOf = (boxId: string) => spy.ofType('TunnelBoxHeartbeat').filter((e) => e.data.boxId === boxId);

beforeAll(async () => {
  box = await startTunnelBox();
  options = tunnelSyncOptions(box.authorizedKeysFile, { heartbeat: heartbeat() });
  spy = await EventSpy.start(testAmqpUrl(), options.exchange!);
  events = await producer(options);
  app = await buildTunnelSyncApp(options);
});
afterAll(async () => {
  await events?.bus.close();
  await app?.close();
  await spy?.stop();
  await box?.stop();
});

describe('the box heartbeat', () => {
  it('says every interval what the box offers, under a routing key ending with the box id, counting its live leases', async () => {
    const [first] = await spy.waitFor('TunnelBoxHeartbeat');
    expect(first).toMatchObject({
      routingKey: `tunnel.box.heartbeat.${boxId}`, producer: 'tunnel-sync',
      data: { boxId, tunnelHost: options.tunnelHost, tunnelPort: box.port, hostKey: box.hostPublicKey, portRange: { from: 20000, to: 29999 }, draining: false },
    });
    const user = { userId: `u-${newId()}`, username: 'lena' };
    await events.portLeased(user, newId(), 20001);
    // Another box's lease never reaches this box's queue.
    await events.portLeased(user, newId(), 20002, { host: 'box-b.tunnel.test' });
    await barrier(box.authorizedKeysFile, events);
    const beats = beatsOf(boxId).length;
    await spy.waitFor('TunnelBoxHeartbeat', beats + 2);
    expect(beatsOf(boxId).at(-1)!.data.liveLeases).toBe(2); // lena's and the barrier's
    expect((await keyLines(box.authorizedKeysFile)).some((line) => line.includes('permitlisten="20002"'))).toBe(false);
  });

  it("sends none while the box's sshd does not answer", async () => {
    const silent = tunnelSyncOptions(box.authorizedKeysFile.replace('authorized_keys', 'silent_keys'), {
      boxId: 'box-silent', heartbeat: heartbeat({ sshdPort: await freePort() }), exchange: options.exchange, deadLetterExchange: options.deadLetterExchange,
    });
    const down = await buildTunnelSyncApp(silent);
    await new Promise((resolve) => setTimeout(resolve, intervalMs * 5));
    await down.close();
    // Only the one it sends on stopping, which takes the box out.
    expect(beatsOf('box-silent').map((e) => e.data.draining)).toEqual([true]);
  });

  it('says draining while the box drains, and takes the box out when it stops', async () => {
    const draining = await buildTunnelSyncApp({ ...options, queue: `${options.queue}-2`, boxId: 'box-draining', heartbeat: heartbeat({ draining: true }) });
    await new Promise((resolve) => setTimeout(resolve, intervalMs * 3));
    expect(beatsOf('box-draining').length).toBeGreaterThanOrEqual(2);
    expect(beatsOf('box-draining').every((e) => e.data.draining)).toBe(true);
    const before = beatsOf(boxId).length;
    await app.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(beatsOf(boxId).slice(before).map((e) => e.data.draining)).toContain(true);
    expect(beatsOf(boxId).at(-1)!.data.draining).toBe(true);
    await draining.close();
  });
});

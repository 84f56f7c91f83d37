import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { eventually, generateSshKey, startTunnelBox, testAmqpUrl, type TunnelBox, type TunnelBoxAnnouncement } from '@tmuxme/testing';
import { ApiClient, startStack, type Stack } from '../src/index.js';

/**
 * Two real tunnel boxes (OpenSSH's sshd), each kept by its own tunnel-sync that announces it: leases
 * spread over both, each box's file holds exactly its own, and a draining or silent box gets none.
 */
type User = Awaited<ReturnType<ApiClient['signup']>>['user'];
let stack: Stack;
let boxes: TunnelBox[];
let announced: TunnelBoxAnnouncement[];
let secondSync: Awaited<ReturnType<Stack['startTunnelSync']>>;
const users: User[] = [];
// Below the ephemeral ports, where the boxes' own sshd ports are picked.
const ranges = [{ from: 24000, to: 24999 }, { from: 25000, to: 25999 }];

beforeAll(async () => {
  boxes = [await startTunnelBox(), await startTunnelBox()];
  announced = boxes.map((box, i) => ({ boxId: `box-${i + 1}`, tunnelHost: '127.0.0.1', tunnelPort: box.port, hostKey: box.hostPublicKey, portRange: ranges[i]! }));
  stack = await startStack({
    mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), boxes: announced, liveBoxes: true,
    authorizedKeysFile: boxes[0]!.authorizedKeysFile, sessions: { maxLeasesPerUser: 50 },
  });
  secondSync = await stack.startTunnelSync(announced[1]!, boxes[1]!.authorizedKeysFile);
  const api = new ApiClient(stack.gatewayUrl);
  for (const name of ['ada', 'bo', 'cy', 'di', 'ed']) {
    const { user } = await api.signup(name);
    expect((await user.request('POST', '/api/v1/user/keys', { key: (await generateSshKey('ed25519')).publicKey })).status).toBe(201);
    users.push(user);
  }
  await eventually(async () => (await stack.servers.sessions.db.collection('boxes').countDocuments()) === 2, 20_000);
}, 120_000);
afterAll(async () => {
  await secondSync?.close();
  await stack?.close();
  await Promise.all((boxes ?? []).map((box) => box.stop()));
});

interface Lease { boxId: string; port: number; leaseId: string; user: User }

async function lease(count: number): Promise<Lease[]> {
  const held: Lease[] = [];
  for (let i = 0; i < count; i += 1) {
    const user = users[i % users.length]!;
    const response = await user.request('GET', '/api/v1/pairing/port');
    expect(response.status).toBe(200);
    held.push({ ...response.json, user });
  }
  return held;
}
const giveBack = async (held: Lease[]) => {
  for (const { user, leaseId } of held) expect((await user.request('DELETE', `/api/v1/pairing/port/${leaseId}`)).status).toBe(204);
};
const countByBox = (held: Lease[]) => Object.fromEntries(announced.map(({ boxId }) => [boxId, held.filter((l) => l.boxId === boxId).length]));
const portsInFile = async (box: TunnelBox) => new Set([...(await readFile(box.authorizedKeysFile, 'utf8')).matchAll(/permitlisten="(\d+)"/g)].map((m) => Number(m[1])));
/** Waits for a heartbeat of the box sent after now (heartbeats go every second). */
const heardFrom = (boxId: string, draining: boolean) => eventually(async () => {
  const box = await stack.servers.sessions.db.collection<{ _id: string; seenAt: Date; draining: boolean }>('boxes').findOne({ _id: boxId });
  return box?.draining === draining && box.seenAt.getTime() > Date.now() - 800;
}, 10_000);

describe('leases over two tunnel boxes', () => {
  let spread: Lease[];

  it('spreads 20 leases from several users over both boxes', async () => {
    spread = await lease(20);
    const counts = countByBox(spread);
    expect(counts['box-1']! + counts['box-2']!).toBe(20);
    expect(Math.min(counts['box-1']!, counts['box-2']!)).toBeGreaterThanOrEqual(7);
    for (const [i, { from, to }] of ranges.entries()) {
      for (const { port } of spread.filter((l) => l.boxId === `box-${i + 1}`)) expect(port >= from && port <= to).toBe(true);
    }
  });

  it("writes each box's file with exactly its own leases", async () => {
    for (const [i, box] of boxes.entries()) {
      const own = new Set(spread.filter((l) => l.boxId === `box-${i + 1}`).map((l) => l.port));
      await eventually(async () => {
        const inFile = await portsInFile(box);
        return inFile.size === own.size && [...own].every((port) => inFile.has(port));
      }, 20_000);
    }
    await giveBack(spread);
    for (const box of boxes) await eventually(async () => (await portsInFile(box)).size === 0, 20_000);
  });

  it('gives a draining box no new lease, and uses it again once it stops draining', async () => {
    await secondSync.close();
    secondSync = await stack.startTunnelSync(announced[1]!, boxes[1]!.authorizedKeysFile, {
      heartbeat: { ...announced[1]!, draining: true, intervalMs: 1000, sshd: { host: '127.0.0.1', port: boxes[1]!.port } },
    });
    await heardFrom('box-2', true);
    const whileDraining = await lease(6);
    expect(countByBox(whileDraining)).toEqual({ 'box-1': 6, 'box-2': 0 });
    await secondSync.close();
    secondSync = await stack.startTunnelSync(announced[1]!, boxes[1]!.authorizedKeysFile);
    await heardFrom('box-2', false);
    const after = await lease(6);
    // Least loaded first: box-2 holds none of the six on box-1.
    expect(countByBox(after)['box-2']).toBeGreaterThanOrEqual(5);
    await giveBack([...whileDraining, ...after]);
  });

  it('gives a box whose heartbeats stopped no new lease, and uses it again when they come back', async () => {
    // A hung sshd: tunnel-sync's check gets no answer, so it sends no heartbeat.
    const listener = Number((await readFile(`/run/tmuxme-tunnel-${boxes[1]!.port}.pid`, 'utf8')).trim());
    process.kill(listener, 'SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, 4500));
      const whileSilent = await lease(6);
      expect(countByBox(whileSilent)).toEqual({ 'box-1': 6, 'box-2': 0 });
      await giveBack(whileSilent);
    } finally {
      process.kill(listener, 'SIGCONT');
    }
    await heardFrom('box-2', false);
    const back = await lease(4);
    expect(countByBox(back)['box-2']).toBeGreaterThanOrEqual(1);
    await giveBack(back);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiClient, startServiceProcess, startStack, untilReady, type ServiceProcess, type Stack } from '@tmuxme/e2e';
import { ed25519PublicKeyLine, eventually, EventSpy, freePort, testAmqpUrl, testMongoUrl, uniqueName, type TcpProxy } from '@tmuxme/testing';
import { authorizedKeysFolder, bodyOf, inParallel, keyLinesOf, principalOf, proxyFor, sumOf, tunnelKeyLine } from '../src/index.js';

/**
 * tunnel-sync as its own process (services/tunnel-sync/src/main.ts), killed with SIGKILL while it works
 * through a backlog of key and lease events, then started again: the tunnel file ends exactly as the
 * keys and leases say, from events alone (no snapshot credential, so nothing papers over a lost event).
 */
const users = 30;
const keysEach = 6;
/** Users who also lease a port; the others' keys must stay out of the file. */
const leasing = 24;
/** Users who remove their first key again. */
const removing = 10;

let stack: Stack;
let spy: EventSpy;
let proxy: TcpProxy;
let brokerUrl: string;
let folder: Awaited<ReturnType<typeof authorizedKeysFolder>>;
const running: ServiceProcess[] = [];
// tunnel-sync's main.ts takes the production exchange names and names its queue after the box, so
// the box gets a name of its own: its queue is then private to this test whatever else shares the broker.
const tunnelHost = `${uniqueName('box')}.tunnel.test`;

beforeAll(async () => {
  folder = await authorizedKeysFolder();
  ({ proxy, url: brokerUrl } = await proxyFor(testAmqpUrl()));
  const long = 30 * 60_000;
  stack = await startStack({
    mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: testAmqpUrl(), exchanges: { exchange: 'tmuxme.events', deadLetterExchange: 'tmuxme.dlx' },
    boxes: [{ boxId: tunnelHost, tunnelHost, tunnelPort: 22, hostKey: ed25519PublicKeyLine(), portRange: { from: 20000, to: 29999 } }],
    sessions: { leaseTtlMs: long, sessionTtlMs: long },
  });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
});
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop('SIGKILL')));
  await stack?.close();
  await spy?.stop();
  await proxy?.stop();
  await folder?.remove();
});

/** A tunnel-sync process for the box; a second one on the same database takes over where the first stopped. */
async function startTunnelSync(database: string) {
  const port = await freePort();
  const service = startServiceProcess('tunnel-sync', {
    PORT: String(port), LOG_LEVEL: 'error', MONGODB_URI: database, AMQP_URL: brokerUrl, TUNNEL_HOST: tunnelHost, TUNNEL_HOST_KEY: ed25519PublicKeyLine(),
    AUTHORIZED_KEYS_FILE: folder.file, TUNNEL_GROUP: folder.group,
    // A checkpoint every 40 changes: the restart loads a checkpoint plus a log, as it would after a long run.
    CHECKPOINT_EVERY: '40',
  });
  running.push(service);
  await untilReady(port, service);
  const handled = async () => sumOf(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'events_consumed_total', { outcome: 'handled' });
  return { service, handled };
}

const boxEvents = new Set(['KeyAdded', 'KeyRemoved', 'PortLeased']);
const addKey = (user: ApiClient) => bodyOf<{ id: string; key: string }>(201, user.request('POST', '/api/v1/user/keys', { key: ed25519PublicKeyLine() }));
const leasePort = (user: ApiClient) => bodyOf<{ port: number }>(200, user.request('GET', '/api/v1/pairing/port'));

describe('tunnel-sync killed with SIGKILL in the middle of a backlog', () => {
  it('ends with exactly the right file after a restart', async () => {
    const database = testMongoUrl(uniqueName('tunnel_sync'));
    const first = await startTunnelSync(database);
    // The box loses the broker while users add keys and lease ports: the events wait in its queue.
    await proxy.cut();
    const api = new ApiClient(stack.gatewayUrl, undefined, 30_000);
    const expected = await inParallel(users, 4, async (i) => {
      const { user } = await api.signup(`crash-${i}`);
      const keys = await inParallel(keysEach, 2, () => addKey(user));
      if (i < removing) await bodyOf(204, user.request('DELETE', `/api/v1/user/keys/${keys[0]!.id}`));
      const port = i < leasing ? (await leasePort(user)).port : undefined;
      const { userId } = principalOf(user);
      return port === undefined ? [] : keys.slice(i < removing ? 1 : 0).map((key) => tunnelKeyLine({ ports: [port], key: key.key, userId, keyId: key.id }));
    });
    const expectedLines = expected.flat().sort();
    const backlog = users * keysEach + removing + leasing;
    await eventually(() => new Set(spy.events.filter((event) => boxEvents.has(event.type)).map((event) => event.id)).size === backlog, 30_000);

    await proxy.restore();
    // Killed once it has handled part of the backlog, and before it is through.
    let handledBeforeKill = 0;
    await eventually(async () => (handledBeforeKill = await first.handled()) >= backlog / 4, 30_000);
    await first.service.stop('SIGKILL');
    const linesAtKill = (await keyLinesOf(folder.file)).length;
    expect(handledBeforeKill).toBeLessThan(backlog);
    expect(linesAtKill).toBeLessThan(expectedLines.length);

    const second = await startTunnelSync(database);
    // A user who arrives after the backlog: once their line is in, tunnel-sync (one event at a time, in
    // queue order) has handled everything queued before them.
    const { user: late } = await api.signup('crash-late');
    const lateKey = await addKey(late);
    const latePort = (await leasePort(late)).port;
    const lateLine = tunnelKeyLine({ ports: [latePort], key: lateKey.key, userId: principalOf(late).userId, keyId: lateKey.id });
    const lines = await eventually(async () => {
      const found = await keyLinesOf(folder.file);
      return found.includes(lateLine) ? found : undefined;
    }, 60_000);
    expect(lines).toEqual([...expectedLines, lateLine].sort());
    const handledAfterRestart = await second.handled();
    expect(handledAfterRestart).toBeGreaterThan(0);
    console.log(`consumer crash: tunnel-sync killed (SIGKILL) after handling ${handledBeforeKill}+ of a ${backlog}-event backlog `
      + `(${linesAtKill} of ${expectedLines.length} file lines written); the restarted process handled ${handledAfterRestart} more, and the file is exact`);
  }, 120_000);
});

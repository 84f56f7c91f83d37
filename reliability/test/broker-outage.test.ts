import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, startStack, type Stack } from '@tmuxme/e2e';
import { ed25519PublicKeyLine, eventually, EventSpy, MailCatcher, testAmqpUrl, type CaughtMail, type TcpProxy } from '@tmuxme/testing';
import { authorizedKeysFolder, bodyOf, inParallel, keyLinesOf, principalOf, proxyFor, sumOf, tunnelKeyLine } from '../src/index.js';

/**
 * 1,000 sign-ups, key additions and session declarations through the gateway while every service, the
 * notifier and tunnel-sync included, reaches RabbitMQ only through a proxy that is cut for 10 s midway.
 * Afterwards each effect happened exactly once: one event per change, one mail per invited guest, and
 * the tunnel box's file holds exactly the keys of the users with leases, pinned to their ports.
 */
const signups = 400;
const hosts = 200;
/** Signed up first, and known everywhere before the stream starts: the guests every session invites. */
const guestPool = 40;
const concurrency = 6;
const outageMs = 10_000;
/** Operations done before the cut: about a third of the stream. */
const cutAfter = 330;

let stack: Stack;
let spy: EventSpy;
let proxy: TcpProxy;
let catcher: MailCatcher;
let folder: Awaited<ReturnType<typeof authorizedKeysFolder>>;

beforeAll(async () => {
  folder = await authorizedKeysFolder();
  catcher = await MailCatcher.start();
  const broker = await proxyFor(testAmqpUrl());
  proxy = broker.proxy;
  // Leases and sessions outlive the test: any release would change the file while the test compares it.
  const long = 30 * 60_000;
  stack = await startStack({
    mongoUrl: process.env.TEST_MONGODB_URL!, amqpUrl: broker.url, smtpUrl: catcher.url,
    authorizedKeysFile: folder.file, tunnelGroup: folder.group, sessions: { leaseTtlMs: long, sessionTtlMs: long },
  });
  spy = await EventSpy.start(testAmqpUrl(), stack.exchange);
});
afterAll(async () => {
  await stack?.close();
  await spy?.stop();
  await proxy?.stop();
  await catcher?.stop();
  await folder?.remove();
});

interface Person {
  username: string;
  user: ApiClient;
  userId: string;
}

interface Hosted {
  host: Person;
  key: { id: string; key: string };
  port: number;
  leaseId: string;
  sessionId: string;
  guests: string[];
}

const brokerUsers = ['accounts', 'keys', 'sessions', 'notifier', 'tunnelSync'] as const;
const metricsOf = async (service: keyof Stack['servers']) => (await stack.servers[service]!.inject({ url: '/metrics' })).body;
const handled = async (service: keyof Stack['servers'], type: string) => sumOf(await metricsOf(service), 'events_consumed_total', { type, outcome: 'handled' });
const distinctIds = (type: string) => new Set(spy.ofType(type).map((event) => event.id)).size;
/** Which session (by its port) and which guest address a mail was for. */
const mailKey = (mail: CaughtMail) => `${/ssh -p (\d+) /.exec(mail.text)?.[1]}:${mail.envelope.to.join(',')}`;

describe('a 10 s broker outage in the middle of 1,000 operations', () => {
  it('loses nothing and does nothing twice', async () => {
    const api = new ApiClient(stack.gatewayUrl, undefined, 30_000);
    const ops = { done: 0, duringOutage: 0 };
    let cut = false;
    let outage: Promise<void> | undefined;
    let restoredAt = 0;
    const cutTheBroker = async () => {
      await proxy.cut();
      cut = true;
      // Every service on the bus notices (readiness turns false), while the writes go on succeeding.
      await eventually(async () => (await Promise.all(brokerUsers.map((service) => stack.servers[service]!.inject({ url: '/readyz' }))))
        .every((response) => response.statusCode === 503));
      await sleep(outageMs);
      cut = false;
      await proxy.restore();
      restoredAt = Date.now();
    };
    const operation = async <T>(work: () => Promise<T>): Promise<T> => {
      const result = await work();
      ops.done += 1;
      if (cut) ops.duringOutage += 1;
      if (ops.done === cutAfter) outage = cutTheBroker();
      return result;
    };
    const signup = async (username: string): Promise<Person> => {
      const { user } = await operation(() => api.signup(username));
      return { username, user, userId: principalOf(user).userId };
    };
    const addKey = (person: Person) => operation(() => bodyOf<{ id: string; key: string }>(201, person.user.request('POST', '/api/v1/user/keys', { key: ed25519PublicKeyLine() })));
    const host = async (person: Person, key: { id: string; key: string }, guests: string[]): Promise<Hosted> => operation(async () => {
      const lease = await bodyOf<{ port: number; leaseId: string }>(200, person.user.request('GET', '/api/v1/pairing/port'));
      const session = await bodyOf<{ id: string }>(201, person.user.request('POST', '/api/v1/pairing/sessions', { port: lease.port, guests }));
      return { host: person, key, port: lease.port, leaseId: lease.leaseId, sessionId: session.id, guests };
    });

    const usernames = Array.from({ length: signups }, (_, i) => `load-${i}`);
    const started = Date.now();
    const pool = await inParallel(guestPool, concurrency, (i) => signup(usernames[i]!));
    // Sessions may only invite users the sessions service has heard of, and the notifier needs their addresses.
    await eventually(async () => (await handled('sessions', 'UserRegistered')) === guestPool && (await handled('notifier', 'UserRegistered')) === guestPool, 30_000);

    // Each remaining user signs up and adds a key; five in nine of them then host a session for one or two pool guests.
    const isHost = (i: number) => (i - guestPool) % 9 < 5;
    const keys = new Map<string, { id: string; key: string }>();
    const sessions: Hosted[] = [];
    await inParallel(signups, concurrency, async (i) => {
      const person = i < guestPool ? pool[i]! : await signup(usernames[i]!);
      const key = await addKey(person);
      keys.set(person.username, key);
      if (i >= guestPool && isHost(i)) {
        const guests = [usernames[i % guestPool]!, ...(i % 2 ? [usernames[(i + 1) % guestPool]!] : [])];
        sessions.push(await host(person, key, guests));
      }
    });
    const lastOperationAt = Date.now();
    await outage;
    expect(sessions).toHaveLength(hosts);
    expect(ops.done).toBe(signups + signups + hosts);

    const expectedMails = new Set(sessions.flatMap((s) => s.guests.map((guest) => `${s.port}:${guest}@example.com`)));
    const expectedLines = sessions.map((s) => tunnelKeyLine({ ports: [s.port], key: s.key.key, userId: s.host.userId, keyId: s.key.id })).sort();
    const expectedEvents = { UserRegistered: signups, KeyAdded: signups, PortLeased: hosts, SessionDeclared: hosts };
    await eventually(async () => Object.entries(expectedEvents).every(([type, count]) => distinctIds(type) === count)
      && (await catcher.count()) >= expectedMails.size
      && (await keyLinesOf(folder.file)).length === expectedLines.length, 90_000);
    const drainedAt = Date.now();
    // A late duplicate (a mail, a line, a republished event) would land now.
    await sleep(1500);

    // One event per change, whatever the relays had to publish again after the cut.
    expect(new Set(spy.ofType('UserRegistered').map((e) => e.data.username))).toEqual(new Set(usernames));
    expect(new Set(spy.ofType('KeyAdded').map((e) => e.data.keyId))).toEqual(new Set([...keys.values()].map((k) => k.id)));
    expect(new Set(spy.ofType('PortLeased').map((e) => e.data.leaseId))).toEqual(new Set(sessions.map((s) => s.leaseId)));
    expect(new Set(spy.ofType('SessionDeclared').map((e) => e.data.sessionId))).toEqual(new Set(sessions.map((s) => s.sessionId)));
    for (const [type, count] of Object.entries(expectedEvents)) expect(distinctIds(type)).toBe(count);
    expect(new Set(spy.events.map((event) => event.type))).toEqual(new Set(Object.keys(expectedEvents)));

    // Every consumer handled every event once; copies it got again were recognised as duplicates.
    expect(await handled('keys', 'UserRegistered')).toBe(signups);
    expect(await handled('sessions', 'UserRegistered')).toBe(signups);
    expect(await handled('tunnelSync', 'KeyAdded')).toBe(signups);
    expect(await handled('tunnelSync', 'PortLeased')).toBe(hosts);
    expect(await handled('notifier', 'SessionDeclared')).toBeGreaterThanOrEqual(hosts);

    // One mail per invited guest, and the tunnel file exactly as the leases and keys say.
    const caught = await catcher.messages();
    const mails = caught.map(mailKey);
    expect(mails).toHaveLength(expectedMails.size);
    expect(new Set(mails)).toEqual(expectedMails);
    expect(new Set(caught.map((mail) => mail.messageId)).size).toBe(expectedMails.size);
    expect(await keyLinesOf(folder.file)).toEqual(expectedLines);

    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`broker outage: ${ops.done} operations (${signups} sign-ups, ${signups} keys, ${hosts} sessions) in ${seconds(lastOperationAt - started)}, `
      + `${ops.duringOutage} of them during the ${seconds(outageMs)} cut; ${spy.events.length} events delivered `
      + `(${Object.values(expectedEvents).reduce((a, b) => a + b)} distinct, ${spy.events.length - new Set(spy.events.map((e) => e.id)).size} re-published copies), `
      + `${mails.length} mails, ${expectedLines.length} tunnel key lines; drained ${seconds(drainedAt - restoredAt)} after the broker came back `
      + `(${seconds(drainedAt - lastOperationAt)} after the last operation)`);
    // Only a guard against a hang: alone it takes about 150 s on the embedded store (FerretDB on SQLite scans whole
    // collections on these paths), and more while the other workspaces' suites run beside it, as they do in `npm test`.
  }, 420_000);
});

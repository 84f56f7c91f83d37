import { createSigner, generateSigningKeys, type Principal } from '@tmuxme/auth';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, UserDeleted, UserRegistered } from '@tmuxme/events';
import {
  announceTunnelBox, buildApp, eventually, generateSshKey, testAmqpUrl, testExchanges, testMongoUrl, uniqueName, type GeneratedKey, type TunnelBoxAnnouncement,
} from '@tmuxme/testing';
import sessionsApp, { type SessionsOptions } from '../src/app.js';

export const signingKeys = generateSigningKeys();

let boxKey: Promise<GeneratedKey> | undefined;
/** The tunnel box's host key: a real one, as the service ignores a box without. */
export const tunnelBoxKey = () => (boxKey ??= generateSshKey('ed25519', undefined, 'root@tunnel-box'));

export async function sessionsOptions(overrides: Partial<SessionsOptions> = {}): Promise<SessionsOptions> {
  return {
    mongoUrl: testMongoUrl(uniqueName('sessions')),
    amqpUrl: testAmqpUrl(),
    ...testExchanges(),
    queue: uniqueName('sessions'),
    jwtPublicKey: signingKeys.publicKey,
    // One heartbeat keeps a box in rotation for the whole test file, unless a test says otherwise.
    boxSilenceMs: 10 * 60_000,
    outboxIntervalMs: 200,
    ...overrides,
  };
}

/** The box tests lease on unless they announce others. */
export async function defaultBox(): Promise<TunnelBoxAnnouncement> {
  return { boxId: 'box-1', tunnelHost: '127.0.0.1', tunnelPort: 2222, hostKey: (await tunnelBoxKey()).publicKey, portRange: { from: 20000, to: 29999 } };
}

/** Builds the app, and announces the default box to it unless told `boxes: []` (or other boxes). */
export async function buildSessionsApp(options: SessionsOptions, { boxes }: { boxes?: TunnelBoxAnnouncement[] } = {}) {
  const app = await buildApp(sessionsApp, options);
  for (const box of boxes ?? [await defaultBox()]) await announceBox(app, options, box);
  return app;
}

export type SessionsApp = Awaited<ReturnType<typeof buildApp>>;

/** Sends the box's heartbeat as its tunnel-sync would, and waits until the app has recorded it. */
export async function announceBox(app: SessionsApp, options: Pick<SessionsOptions, 'exchange'>, box: TunnelBoxAnnouncement) {
  const at = await announceTunnelBox(testAmqpUrl(), options.exchange!, box);
  await eventually(async () => {
    const recorded = await app.db.collection<{ _id: string; at: Date }>('boxes').findOne({ _id: box.boxId });
    return recorded !== null && recorded.at.getTime() >= Date.parse(at);
  });
}

/** What accounts would hand the user after login. */
export async function bearerFor(principal: Principal): Promise<{ authorization: string }> {
  const signer = await createSigner(signingKeys.privateKey, 900);
  return { authorization: `Bearer ${await signer.sign(principal)}` };
}

/** Stands in for the accounts service on the test exchange: its events are real, on the real broker. */
export class Accounts {
  private constructor(private readonly bus: Bus) {}

  static async connect(options: SessionsOptions) {
    return new Accounts(await Bus.connect({ url: testAmqpUrl(), producer: 'accounts', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange }));
  }

  /** Registers the user and waits until the app has seen it; returns the user's auth header. */
  async register(app: SessionsApp, username: string) {
    const principal = { userId: `u-${username}`, username };
    await this.bus.publish(createEnvelope(UserRegistered, { ...principal, email: `${username}@example.com` }, { producer: 'accounts' }));
    await eventually(() => app.db.collection('users').findOne({ _id: principal.userId as never }));
    return { principal, auth: await bearerFor(principal) };
  }

  async remove(username: string, requestId?: string) {
    await this.bus.publish(createEnvelope(UserDeleted, { userId: `u-${username}`, username }, { producer: 'accounts', requestId }));
  }

  close() {
    return this.bus.close();
  }
}

/** Every item of a box's lease or session snapshot, read a page at a time as a tunnel box does. */
export async function readSnapshot(app: SessionsApp, of: 'leases' | 'sessions', boxId: string, serviceToken: string, limit = 5000) {
  const items: Record<string, unknown>[] = [];
  let after: string | null | undefined;
  do {
    const query = new URLSearchParams({ boxId, limit: String(limit), ...(after ? { after } : {}) });
    const response = await app.inject({ url: `/internal/v1/snapshot/${of}?${query}`, headers: { authorization: `Service ${serviceToken}` } });
    if (response.statusCode !== 200) throw new Error(`the ${of} snapshot answered ${response.statusCode}: ${response.body}`);
    const page = response.json<{ items: Record<string, unknown>[]; next: string | null }>();
    items.push(...page.items);
    after = page.next;
  } while (after);
  return items;
}

import { createSigner, generateSigningKeys, type Principal } from '@tmuxme/auth';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, UserDeleted, UserRegistered } from '@tmuxme/events';
import { buildApp, eventually, generateSshKey, testAmqpUrl, testExchanges, testMongoUrl, uniqueName, type GeneratedKey } from '@tmuxme/testing';
import sessionsApp, { type SessionsOptions } from '../src/app.js';

export const signingKeys = generateSigningKeys();

let boxKey: Promise<GeneratedKey> | undefined;
/** The tunnel box's host key: a real one, as the service refuses to start without. */
export const tunnelBoxKey = () => (boxKey ??= generateSshKey('ed25519', undefined, 'root@tunnel-box'));

export async function sessionsOptions(overrides: Partial<SessionsOptions> = {}): Promise<SessionsOptions> {
  return {
    mongoUrl: testMongoUrl(uniqueName('sessions')),
    amqpUrl: testAmqpUrl(),
    ...testExchanges(),
    queue: uniqueName('sessions'),
    jwtPublicKey: signingKeys.publicKey,
    boxes: [{ tunnelHost: '127.0.0.1', tunnelPort: 2222, hostKey: (await tunnelBoxKey()).publicKey, ports: { first: 20000, last: 29999 } }],
    outboxIntervalMs: 200,
    ...overrides,
  };
}

export const buildSessionsApp = (options: SessionsOptions) => buildApp(sessionsApp, options);

export type SessionsApp = Awaited<ReturnType<typeof buildSessionsApp>>;

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

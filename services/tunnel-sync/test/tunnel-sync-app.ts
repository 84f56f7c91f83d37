import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ServerOptions } from '@tmuxme/service-kit';
import { Bus } from '@tmuxme/bus';
import { createEnvelope, KeyAdded, KeyRemoved, PortLeased, PortReleased, SessionDeclared, SessionEnded, UserDeleted } from '@tmuxme/events';
import { parsePublicKey } from '@tmuxme/ssh-keys';
import { buildApp, eventually, freePort, generateSshKey, testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import tunnelSyncApp, { type TunnelSyncOptions } from '../src/app.js';

export const tunnelHost = 'box-a.tunnel.test';
/** The box's id, unless an option names another: its host name, as the app takes it by default. */
export const boxId = tunnelHost;

export function tunnelSyncOptions(authorizedKeysFile: string, overrides: Partial<TunnelSyncOptions> = {}): TunnelSyncOptions {
  return {
    mongoUrl: testMongoUrl(uniqueName('tunnel-sync')),
    amqpUrl: testAmqpUrl(),
    ...testExchanges(),
    tunnelHost,
    queue: uniqueName('tunnel-sync'),
    authorizedKeysFile,
    ...overrides,
  };
}

/** The private tunnel user's and the join user's files, where the app puts them unless told otherwise: beside the tunnel user's. */
export const besideFiles = (authorizedKeysFile: string) => ({
  privateFile: join(dirname(authorizedKeysFile), 'private_authorized_keys'),
  joinFile: join(dirname(authorizedKeysFile), 'join_authorized_keys'),
});

export const buildTunnelSyncApp = (options: TunnelSyncOptions, serverOptions?: ServerOptions) => buildApp(tunnelSyncApp, options, serverOptions);

export type TunnelSyncTestApp = Awaited<ReturnType<typeof buildTunnelSyncApp>>;
export type Producer = Awaited<ReturnType<typeof producer>>;

/** What keys and sessions would publish, on the exchange the app consumes. */
export async function producer(options: Pick<TunnelSyncOptions, 'exchange' | 'deadLetterExchange'>) {
  const bus = await Bus.connect({ url: testAmqpUrl(), producer: 'test', exchange: options.exchange, deadLetterExchange: options.deadLetterExchange });
  const from = (producer: string) => ({ producer });
  return {
    bus,
    keyAdded: (user: User, keyId: string, key: string) => bus.publish(createEnvelope(KeyAdded, {
      keyId, userId: user.userId, username: user.username, type: key.split(' ')[0]!, key, fingerprint: fingerprintOf(key),
    }, from('keys'))),
    keyRemoved: (user: User, keyId: string, key: string) => bus.publish(createEnvelope(KeyRemoved, {
      keyId, userId: user.userId, username: user.username, fingerprint: fingerprintOf(key),
    }, from('keys'))),
    /** `private` left out is how a lease from before private leases looks. */
    portLeased: (user: User, leaseId: string, port: number, { host = tunnelHost, private: isPrivate }: { host?: string; private?: boolean } = {}) =>
      bus.publish(createEnvelope(PortLeased, {
        leaseId, userId: user.userId, username: user.username, boxId: host, tunnelHost: host, port, expiresAt: new Date(Date.now() + 600_000).toISOString(),
        ...(isPrivate === undefined ? {} : { private: isPrivate }),
      }, from('sessions'))),
    portReleased: (user: User, leaseId: string, port: number, { host = tunnelHost }: { host?: string } = {}) => bus.publish(createEnvelope(PortReleased, {
      leaseId, userId: user.userId, username: user.username, boxId: host, tunnelHost: host, port,
    }, from('sessions'))),
    sessionDeclared: (host: User, sessionId: string, port: number, guests: User[], { box = tunnelHost, private: isPrivate = false } = {}) => {
      const jump = `ssh -J join@${box} -o HostKeyAlias=${box}:${port} -p ${port} tmuxme@127.0.0.1`;
      return bus.publish(createEnvelope(SessionDeclared, {
        sessionId, host: { userId: host.userId, username: host.username },
        guests: guests.map(({ userId, username }) => ({ userId, username, access: 'rw' as const })),
        boxId: box, tunnelHost: box, tunnelPort: 22, port, private: isPrivate,
        joinCommand: isPrivate ? jump : `ssh -p ${port} tmuxme@${box}`, jumpJoinCommand: jump,
      }, from('sessions')));
    },
    sessionEnded: (sessionId: string, reason: 'ended' | 'expired' | 'account-deleted' = 'ended', box = boxId) =>
      bus.publish(createEnvelope(SessionEnded, { sessionId, boxId: box, reason }, from('sessions'))),
    userDeleted: (user: User) => bus.publish(createEnvelope(UserDeleted, { userId: user.userId, username: user.username }, from('accounts'))),
  };
}

export interface User {
  userId: string;
  username: string;
}

function fingerprintOf(key: string): string {
  try {
    return parsePublicKey(key).fingerprint;
  } catch {
    return 'SHA256:not-a-key'; // the tests also publish keys that must be refused
  }
}

/** The key lines of the file (the header left out). */
export async function keyLines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));
}

/** Waits until the file's key lines satisfy `check`, and returns them. */
export async function fileSettles(file: string, check: (lines: string[]) => boolean, timeoutMs = 10_000): Promise<string[]> {
  const settled = await eventually(async () => {
    const lines = await keyLines(file);
    return check(lines) ? lines : undefined;
  }, timeoutMs);
  return settled!;
}

/** The `type base64` of an OpenSSH public key line, as keys stores and publishes it. */
export const keyText = (publicKey: string) => publicKey.trim().split(' ').slice(0, 2).join(' ');

export const comment = (user: User, keyId: string) => `tmuxme:${user.userId}:${keyId}`;
export const joinComment = (user: User, keyId: string) => `tmuxme-join:${user.userId}:${keyId}`;

export const newId = () => randomBytes(12).toString('hex');

/**
 * Events are handled one at a time, in order: once a marker user published after them shows in the
 * file, the events before it were handled too, including those that were meant to change nothing.
 */
export async function barrier(file: string, events: Producer) {
  const marker = { userId: `u-marker-${newId()}`, username: 'marker' };
  const keyId = newId();
  await events.keyAdded(marker, keyId, keyText((await generateSshKey('ed25519')).publicKey));
  await events.portLeased(marker, newId(), await freePort());
  await fileSettles(file, (lines) => lines.some((line) => line.endsWith(comment(marker, keyId))));
}

/** The same for the join file: a marker guest of a marker session. */
export async function joinBarrier(joinFile: string, events: Producer) {
  const [host, guest] = ['host', 'guest'].map((role) => ({ userId: `u-marker-${role}-${newId()}`, username: `marker-${role}` })) as [User, User];
  const [keyId, port] = [newId(), await freePort()];
  await events.keyAdded(guest, keyId, keyText((await generateSshKey('ed25519')).publicKey));
  await events.portLeased(host, newId(), port);
  await events.sessionDeclared(host, newId(), port, [guest]);
  await fileSettles(joinFile, (lines) => lines.some((line) => line.endsWith(joinComment(guest, keyId))));
}

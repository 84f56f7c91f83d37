import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateSshKey } from '@tmuxme/testing';
import type { KeyEntry } from './key-file.js';
import type { LeaseEntry } from './render-authorized-keys.js';
import { renderJoinAuthorizedKeys, type SessionEntry } from './render-join-authorized-keys.js';

const keyText = (publicKey: string) => publicKey.trim().split(' ').slice(0, 2).join(' ');
const lines = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#'));
const hold = 'command="/usr/local/bin/tunnel-hold"';
let ed25519: string;
let ecdsa: string;

beforeAll(async () => {
  [ed25519, ecdsa] = await Promise.all([generateSshKey('ed25519'), generateSshKey('ecdsa')]).then((keys) => keys.map((k) => keyText(k.publicKey)));
});

const lease = (userId: string, port: number, isPrivate = false): LeaseEntry => ({ leaseId: `${userId}-${port}`, userId, port, private: isPrivate });
const session = (sessionId: string, hostUserId: string, port: number, guestUserIds: string[]): SessionEntry => ({ sessionId, hostUserId, port, guestUserIds });

describe('renderJoinAuthorizedKeys', () => {
  it('gives each key of a guest one line, opening every session port of theirs here in order, and nothing else', () => {
    const keys: KeyEntry[] = [
      { keyId: 'k1', userId: 'guest', key: ed25519 }, { keyId: 'k2', userId: 'guest', key: ecdsa }, { keyId: 'kh', userId: 'host', key: ed25519 },
    ];
    const text = renderJoinAuthorizedKeys({
      keys,
      leases: [lease('host', 20002), lease('host', 20001, true)],
      sessions: [session('s2', 'host', 20002, ['guest']), session('s1', 'host', 20001, ['guest'])],
    });
    const opens = 'restrict,port-forwarding,permitopen="127.0.0.1:20001",permitopen="127.0.0.1:20002"';
    expect(lines(text)).toEqual([`${opens},${hold} ${ed25519} tmuxme-join:guest:k1`, `${opens},${hold} ${ecdsa} tmuxme-join:guest:k2`]);
    expect(text).toMatch(/^# Written by tmux\.me tunnel-sync: .*join user.*\n/);
  });

  it('counts a session only while its host holds a live lease on its port', () => {
    const keys: KeyEntry[] = [{ keyId: 'k1', userId: 'guest', key: ed25519 }];
    const render = (leases: LeaseEntry[]) => lines(renderJoinAuthorizedKeys({ keys, leases, sessions: [session('s', 'host', 20001, ['guest'])] }));
    expect(render([lease('host', 20001)])).toHaveLength(1);
    expect(render([])).toEqual([]);
    // The port released and leased again by someone else, or the host holding another port only.
    expect(render([lease('someone-else', 20001)])).toEqual([]);
    expect(render([lease('host', 20002)])).toEqual([]);
  });

  it('gives the same bytes whatever the order, and never writes a key that fails validation', () => {
    const keys: KeyEntry[] = [
      { keyId: 'b', userId: 'g2', key: ecdsa }, { keyId: 'a', userId: 'g1', key: ed25519 },
      { keyId: 'bad', userId: 'g1', key: `${ed25519}\nssh-ed25519 planted` }, { keyId: 'spaced', userId: 'g 3', key: ed25519 },
    ];
    const sessions = [session('s1', 'h', 20001, ['g1', 'g2', 'g 3']), session('s2', 'h', 20002, ['g2', 'g2'])];
    const leases = [lease('h', 20001), lease('h', 20002)];
    const invalid: string[] = [];
    const first = renderJoinAuthorizedKeys({ keys, leases, sessions }, { onInvalidKey: (key) => invalid.push(key.keyId) });
    expect(renderJoinAuthorizedKeys({ keys: [...keys].reverse().map((k) => ({ ...k })), leases: [...leases].reverse(), sessions: [...sessions].reverse() })).toBe(first);
    expect(lines(first).map((line) => line.split(' ').at(-1))).toEqual(['tmuxme-join:g1:a', 'tmuxme-join:g2:b']);
    expect(lines(first)[1]).toContain('permitopen="127.0.0.1:20001",permitopen="127.0.0.1:20002",command=');
    expect(invalid.sort()).toEqual(['bad', 'spaced']);
  });
});

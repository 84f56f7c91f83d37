import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateSshKey } from '@tmuxme/testing';
import { renderAuthorizedKeys, type KeyEntry, type LeaseEntry } from './render-authorized-keys.js';

const keyText = (publicKey: string) => publicKey.trim().split(' ').slice(0, 2).join(' ');
let ed25519: string;
let ecdsa: string;
let rsa: string;

beforeAll(async () => {
  [ed25519, ecdsa, rsa] = await Promise.all([generateSshKey('ed25519'), generateSshKey('ecdsa'), generateSshKey('rsa', 2048)])
    .then((keys) => keys.map((k) => keyText(k.publicKey)));
});

const lines = (text: string) => text.split('\n').filter((line) => line && !line.startsWith('#'));

describe('renderAuthorizedKeys', () => {
  it('pins each key of a user with leases to exactly their ports, in the form of docs/architecture.md §5', () => {
    const keys: KeyEntry[] = [{ keyId: 'k1', userId: 'u1', key: ed25519 }, { keyId: 'k2', userId: 'u1', key: ecdsa }];
    const leases: LeaseEntry[] = [{ leaseId: 'l2', userId: 'u1', port: 20002, private: false }, { leaseId: 'l1', userId: 'u1', port: 20001, private: false }];
    expect(lines(renderAuthorizedKeys({ keys, leases }))).toEqual([
      `restrict,port-forwarding,permitlisten="20001",permitlisten="20002",command="/usr/local/bin/tunnel-hold" ${ed25519} tmuxme:u1:k1`,
      `restrict,port-forwarding,permitlisten="20001",permitlisten="20002",command="/usr/local/bin/tunnel-hold" ${ecdsa} tmuxme:u1:k2`,
    ]);
  });

  it('leaves out users without a lease and leases without keys', () => {
    const text = renderAuthorizedKeys({
      keys: [{ keyId: 'k1', userId: 'no-lease', key: ed25519 }],
      leases: [{ leaseId: 'l1', userId: 'no-keys', port: 20001, private: false }],
    });
    expect(lines(text)).toEqual([]);
    expect(text).toMatch(/^# .*\n$/);
  });

  it('gives the same bytes for the same state, whatever the order it comes in', () => {
    const keys: KeyEntry[] = [
      { keyId: 'b', userId: 'u2', key: rsa }, { keyId: 'a', userId: 'u1', key: ed25519 }, { keyId: 'c', userId: 'u1', key: ecdsa },
    ];
    const leases: LeaseEntry[] = [
      { leaseId: 'x', userId: 'u2', port: 30000, private: false }, { leaseId: 'y', userId: 'u1', port: 20001, private: false }, { leaseId: 'z', userId: 'u2', port: 30000, private: false },
    ];
    const first = renderAuthorizedKeys({ keys, leases });
    const second = renderAuthorizedKeys({ keys: [...keys].reverse().map((k) => ({ ...k })), leases: [...leases].reverse() });
    expect(second).toBe(first);
    expect(lines(first).map((line) => line.split(' ').at(-1))).toEqual(['tmuxme:u1:a', 'tmuxme:u1:c', 'tmuxme:u2:b']);
    // Two leases on one port (a stale duplicate) still give one permitlisten.
    expect(lines(first)[2]).toContain('permitlisten="30000",command=');
  });

  it('never writes a key that fails validation, and says which', () => {
    const smuggled = [
      `${ed25519}\nssh-ed25519 ${ed25519.split(' ')[1]} planted`,
      `${ed25519} command="sh"`,
      `command="sh" ${ed25519}`,
      `ssh-rsa ${ed25519.split(' ')[1]}`,
      `ssh-ed25519 ${ed25519.split(' ')[1]!.slice(0, -4)}`,
      'ssh-dss AAAAB3NzaC1kc3M=',
      '',
    ];
    const keys: KeyEntry[] = smuggled.map((key, i) => ({ keyId: `bad${i}`, userId: 'u1', key }));
    keys.push({ keyId: 'good', userId: 'u1', key: ed25519 }, { keyId: 'spaced', userId: 'user one', key: ecdsa });
    const invalid: string[] = [];
    const text = renderAuthorizedKeys({ keys, leases: [{ leaseId: 'l', userId: 'u1', port: 20001, private: false }, { leaseId: 'm', userId: 'user one', port: 20002, private: false }] }, {
      onInvalidKey: (key) => invalid.push(key.keyId),
    });
    expect(lines(text)).toEqual([`restrict,port-forwarding,permitlisten="20001",command="/usr/local/bin/tunnel-hold" ${ed25519} tmuxme:u1:good`]);
    expect(invalid.sort()).toEqual([...smuggled.map((_, i) => `bad${i}`), 'spaced'].sort());
    expect(text.split('\n')).toHaveLength(3);
  });

  it('writes private leases to the private file and public ones to the tunnel file, the lines alike', () => {
    const keys: KeyEntry[] = [{ keyId: 'k1', userId: 'u1', key: ed25519 }, { keyId: 'k2', userId: 'u2', key: ecdsa }];
    const leases: LeaseEntry[] = [
      { leaseId: 'public', userId: 'u1', port: 20001, private: false },
      { leaseId: 'hidden', userId: 'u1', port: 20002, private: true },
      { leaseId: 'only-hidden', userId: 'u2', port: 20003, private: true },
    ];
    expect(lines(renderAuthorizedKeys({ keys, leases }))).toEqual([
      `restrict,port-forwarding,permitlisten="20001",command="/usr/local/bin/tunnel-hold" ${ed25519} tmuxme:u1:k1`,
    ]);
    const privateFile = renderAuthorizedKeys({ keys, leases }, { private: true });
    expect(lines(privateFile)).toEqual([
      `restrict,port-forwarding,permitlisten="20002",command="/usr/local/bin/tunnel-hold" ${ed25519} tmuxme:u1:k1`,
      `restrict,port-forwarding,permitlisten="20003",command="/usr/local/bin/tunnel-hold" ${ecdsa} tmuxme:u2:k2`,
    ]);
    expect(privateFile).toMatch(/^# .*private lease.*\n/);
  });

  it('skips ports sshd would not take', () => {
    const keys = [{ keyId: 'k', userId: 'u', key: ed25519 }];
    for (const port of [0, -1, 65536, 2.5, Number.NaN]) {
      expect(lines(renderAuthorizedKeys({ keys, leases: [{ leaseId: 'l', userId: 'u', port, private: false }] }))).toEqual([]);
    }
  });
});

import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateSshKey } from '@tmuxme/testing';
import { TunnelBoxes, type TunnelBoxConfig } from './tunnel-boxes.js';

/** A wrong box setting stops the service at start, saying which box and what is wrong. */
let box: TunnelBoxConfig;
beforeAll(async () => {
  box = { tunnelHost: 'tunnel.example.org', tunnelPort: 2222, hostKey: (await generateSshKey()).publicKey, ports: { first: 20000, last: 29999 } };
});

describe('TunnelBoxes', () => {
  it('keeps the host key without its comment and knows its ports', () => {
    const boxes = new TunnelBoxes([box, { ...box, tunnelHost: 'tunnel-2.example.org', ports: { first: 40000, last: 40009 } }]);
    expect(boxes.all[0]!.hostKeyLine).toBe(box.hostKey.split(' ').slice(0, 2).join(' '));
    expect([19999, 20000, 29999, 30000, 40005].map((port) => boxes.covering(port).length)).toEqual([0, 1, 1, 0, 1]);
    expect(boxes.describeRanges()).toBe('20000–29999, 40000–40009');
  });

  it.each([
    ['no box', () => [], 'at least one'],
    ['two boxes of one name', () => [box, box], 'same tunnelHost'],
    ['a private host key', () => [{ ...box, hostKey: '-----BEGIN OPENSSH PRIVATE KEY-----' }], 'tunnel.example.org: the host key is not valid'],
    ['an empty host key', () => [{ ...box, hostKey: '' }], 'the host key is not valid'],
    ['a range below 1024', () => [{ ...box, ports: { first: 80, last: 90 } }], 'must lie within 1024-65535'],
    ['a range upside down', () => [{ ...box, ports: { first: 30000, last: 20000 } }], 'lowest first'],
    ["a range holding the box's sshd port", () => [{ ...box, tunnelPort: 20022 }], "the box's own sshd port 20022"],
  ])('refuses %s', (_name, configs, message) => {
    expect(() => new TunnelBoxes(configs())).toThrow(message);
  });
});

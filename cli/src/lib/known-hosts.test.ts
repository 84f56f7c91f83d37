import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { writeTempKnownHosts } from './known-hosts.js';

describe('temporary known_hosts', () => {
  it('pins each host on its port, private to the user, and goes away', async () => {
    const pinned = await writeTempKnownHosts([
      { host: 'box.example', port: 2222, publicKey: 'ssh-ed25519 AAAAC3Nza box-comment\n' },
      { host: 'host.example', port: 22, publicKey: 'ssh-ed25519 AAAAC3Nzb' },
    ]);
    expect(await readFile(pinned.file, 'utf8')).toBe('[box.example]:2222 ssh-ed25519 AAAAC3Nza\nhost.example ssh-ed25519 AAAAC3Nzb\n');
    expect((await stat(pinned.file)).mode & 0o777).toBe(0o600);
    await pinned.remove();
    expect(existsSync(pinned.file)).toBe(false);
  });

  it('refuses something that is not a key', async () => {
    await expect(writeTempKnownHosts([{ host: 'h', port: 22, publicKey: 'garbage' }])).rejects.toThrow(/not an SSH public key/);
  });
});

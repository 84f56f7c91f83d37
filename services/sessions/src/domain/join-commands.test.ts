import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ed25519PublicKeyLine } from '@tmuxme/testing';
import { sshWorld, type Sshd, type SshWorld } from '../../test/real-sshd.js';
import { joinCommands, jumpJoinCommand, pinnedJoinCommand, pinnedJumpJoinCommand } from './join-commands.js';

/**
 * The join commands as a guest pastes them, run by the real ssh client through sh (quotes and all)
 * against real sshds: one stands in for the tunnel box (its `join` user), one for the host behind the
 * leased port. Each gets in with the keys it was given and with no other, and never asks.
 */
let world: SshWorld;
let box: Sshd;
let host: Sshd;

beforeAll(async () => {
  world = await sshWorld();
  [box, host] = [await world.start(), await world.start()];
});
afterAll(async () => {
  await world?.stop();
});

const session = () => ({ tunnelHost: '127.0.0.1', tunnelPort: box.port, port: host.port });
/** The guest's ssh, told nothing but what the command says; the destination runs `echo joined`. */
const asGuest = (command: string, config = '/dev/null') => world.sh(`${command} -F ${config} -o BatchMode=yes -o ConnectTimeout=5 echo joined`);
const refusedKey = 'Host key verification failed';

async function expectJoined(command: string, config?: string) {
  const result = await asGuest(command, config);
  expect({ ...result, box: box.log(), host: host.log() }).toMatchObject({ code: 0, stdout: 'joined\n' });
  expect(result.stderr).not.toContain(refusedKey);
}

async function expectRefused(command: string, config?: string) {
  const result = await asGuest(command, config);
  expect(result.stderr).toContain(refusedKey);
  expect(result.stdout).toBe('');
  expect(result.code).not.toBe(0);
}

describe('the commands as text', () => {
  const endpoint = { tunnelHost: 'tunnel.tmux.me', tunnelPort: 2222, port: 24624 };

  it('names the box port on the jump hop unless it is 22, and files the host key under the box and port', () => {
    expect(jumpJoinCommand(endpoint)).toBe('ssh -J join@tunnel.tmux.me:2222 -o HostKeyAlias=tunnel.tmux.me:24624 -p 24624 tmuxme@127.0.0.1');
    expect(jumpJoinCommand({ ...endpoint, tunnelPort: 22 })).toBe('ssh -J join@tunnel.tmux.me -o HostKeyAlias=tunnel.tmux.me:24624 -p 24624 tmuxme@127.0.0.1');
  });

  it('gives a private session the jump commands only, and pins nothing without a host key', () => {
    const keys = { hostKey: 'ssh-ed25519 HOST', tunnelHostKey: 'ssh-ed25519 BOX' };
    const jump = jumpJoinCommand(endpoint);
    const pinnedJump = pinnedJumpJoinCommand(endpoint, keys.hostKey, keys.tunnelHostKey);
    expect(joinCommands({ ...endpoint, ...keys, private: true })).toEqual({
      joinCommand: jump, jumpJoinCommand: jump, pinnedJoinCommand: pinnedJump, pinnedJumpJoinCommand: pinnedJump,
    });
    expect(joinCommands({ ...endpoint, ...keys, private: false })).toEqual({
      joinCommand: 'ssh -p 24624 tmuxme@tunnel.tmux.me', jumpJoinCommand: jump,
      pinnedJoinCommand: pinnedJoinCommand(endpoint, keys.hostKey), pinnedJumpJoinCommand: pinnedJump,
    });
    expect(joinCommands({ ...endpoint, tunnelHostKey: keys.tunnelHostKey, private: true })).toEqual({ joinCommand: jump, jumpJoinCommand: jump });
  });
});

describe('the pinned join command against a real sshd', () => {
  it('trusts the declared host key', async () => {
    await expectJoined(pinnedJoinCommand(session(), host.hostKeyLine));
  });

  it('refuses any other key, and never asks to trust one', async () => {
    await expectRefused(pinnedJoinCommand(session(), ed25519PublicKeyLine()));
  });
});

describe('the jump command through a real box sshd', () => {
  /** An ssh_config the jump hop reads too (ssh hands `-F` on to it), pinning keys through one known_hosts file. */
  async function config(name: string, knownHosts: string[]) {
    const file = join(world.dir, `${name}.config`);
    await writeFile(join(world.dir, `${name}.known_hosts`), knownHosts.map((line) => `${line}\n`).join(''));
    await writeFile(file, `UserKnownHostsFile ${join(world.dir, `${name}.known_hosts`)}\nGlobalKnownHostsFile /dev/null\nStrictHostKeyChecking yes\n`);
    return file;
  }

  it('reaches the host through the box, checking the host key under its alias', async () => {
    const known = await config('alias', [`[127.0.0.1]:${box.port} ${box.hostKeyLine}`, `127.0.0.1:${host.port} ${host.hostKeyLine}`]);
    await expectJoined(jumpJoinCommand(session()), known);
    expect(box.log()).toContain('Accepted publickey for join from 127.0.0.1');
  });

  it('does not take the key ssh would file under 127.0.0.1 and the port for that of the session', async () => {
    const known = await config('plain', [`[127.0.0.1]:${box.port} ${box.hostKeyLine}`, `[127.0.0.1]:${host.port} ${host.hostKeyLine}`]);
    await expectRefused(jumpJoinCommand(session()), known);
  });

  it('goes through the box: a box whose key is unknown stops it', async () => {
    const known = await config('no-box', [`127.0.0.1:${host.port} ${host.hostKeyLine}`]);
    await expectRefused(jumpJoinCommand(session()), known);
  });
});

describe('the pinned jump command through a real box sshd', () => {
  const command = (hostKey: string, boxKey: string) => pinnedJumpJoinCommand(session(), hostKey, boxKey);

  it('ssh reads it as one ProxyCommand whose %% survives for the jump hop', async () => {
    const { stdout } = await world.sh(`${command(host.hostKeyLine, box.hostKeyLine).replace(/^ssh /, 'ssh -G ')} -F /dev/null`);
    expect(stdout).toContain(`\nknownhostscommand /bin/echo %H ${host.hostKeyLine}\n`);
    expect(stdout).toContain(`\nproxycommand ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KnownHostsCommand='/bin/echo %%H ${box.hostKeyLine}' `
      + `-p ${box.port} -W %h:%p join@127.0.0.1\n`);
  });

  it('pins both hops and joins without a known_hosts file', async () => {
    const logins = box.log().split('Accepted publickey for join').length;
    await expectJoined(command(host.hostKeyLine, box.hostKeyLine));
    expect(box.log().split('Accepted publickey for join').length).toBe(logins + 1);
  });

  it('refuses a box with another key', async () => {
    await expectRefused(command(host.hostKeyLine, ed25519PublicKeyLine()));
  });

  it('refuses a host with another key behind the right box', async () => {
    await expectRefused(command(ed25519PublicKeyLine(), box.hostKeyLine));
  });
});

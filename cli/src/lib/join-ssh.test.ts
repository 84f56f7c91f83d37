import { describe, expect, it } from '@jest/globals';
import { joinSshArgs, pinnedHosts } from './join-ssh.js';

const session = { tunnelHost: 'box.example', tunnelPort: 2222, port: 31234, tunnelHostKey: 'ssh-ed25519 BOX' };
const knownHostsFile = '/tmp/kh/known_hosts';
const proxyCommand = (args: string[]) => args.find((arg) => arg.startsWith('ProxyCommand='))!.slice('ProxyCommand='.length);
const pinning = (strict: string) => ['-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', `StrictHostKeyChecking=${strict}`];

describe('the join\'s ssh command', () => {
  it('straight to the port: the host pinned where ssh looks it up, the guest\'s options before the destination', () => {
    expect(pinnedHosts(session, 'port', 'ssh-ed25519 HOST')).toEqual([{ host: 'box.example', port: 31234, publicKey: 'ssh-ed25519 HOST' }]);
    expect(joinSshArgs({ session, route: 'port', hostKey: 'ssh-ed25519 HOST', knownHostsFile, sshOptions: ['-i', 'k'] }))
      .toEqual([...pinning('yes'), '-p', '31234', '-i', 'k', 'tmuxme@box.example']);
  });

  it('through the SSH port: join@box as a ProxyCommand pinned from the same file, the host at the literal 127.0.0.1', () => {
    expect(pinnedHosts(session, 'ssh-port', 'ssh-ed25519 HOST')).toEqual([
      { host: 'box.example', port: 2222, publicKey: 'ssh-ed25519 BOX' },
      { host: '127.0.0.1', port: 31234, publicKey: 'ssh-ed25519 HOST' },
    ]);
    expect(joinSshArgs({ session, route: 'ssh-port', hostKey: 'ssh-ed25519 HOST', knownHostsFile, sshOptions: ['-i', 'my key'] })).toEqual([
      ...pinning('yes'),
      '-o', `ProxyCommand=ssh -o UserKnownHostsFile=${knownHostsFile} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes `
        + "-i 'my key' -W %h:%p -p 2222 join@box.example",
      '-p', '31234', '-i', 'my key', 'tmuxme@127.0.0.1',
    ]);
  });

  it('keeps every word of the hop literal through /bin/sh and %-expansion, whatever the server or the guest sends', () => {
    const hostile = { ...session, tunnelHost: 'box;touch /tmp/owned' };
    expect(proxyCommand(joinSshArgs({ session: hostile, route: 'ssh-port', knownHostsFile: '/tmp/100%/kh', sshOptions: ['-E', "it's 50%"] }))).toBe("ssh -o UserKnownHostsFile=/tmp/100%%/kh -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes "
      + "-E 'it'\\''s 50%%' -W %h:%p -p 2222 'join@box;touch /tmp/owned'");
  });

  it('unpinned: the host\'s key is accepted as shown, the box\'s still required', () => {
    expect(pinnedHosts(session, 'ssh-port', undefined)).toEqual([{ host: 'box.example', port: 2222, publicKey: 'ssh-ed25519 BOX' }]);
    const args = joinSshArgs({ session, route: 'ssh-port', knownHostsFile, sshOptions: [] });
    expect(args.slice(0, 6)).toEqual(pinning('accept-new'));
    expect(proxyCommand(args)).toContain('-o StrictHostKeyChecking=yes -W %h:%p');
  });

  it('refuses the jump path when the server gave no key for its box', () => {
    expect(() => pinnedHosts({ ...session, tunnelHostKey: '' }, 'ssh-port', 'ssh-ed25519 HOST')).toThrow('the jump hop cannot be checked');
  });
});

import { describe, expect, it } from '@jest/globals';
import type { PairingSession } from '../lib/api-client.js';
import { describeSession } from './sessions.js';

const jump = 'ssh -J join@box:2222 -o HostKeyAlias=box:31234 -p 31234 tmuxme@127.0.0.1';
const pinnedJump = "ssh -o UserKnownHostsFile=/dev/null -o ProxyCommand=\"ssh … -W %h:%p join@box\" -p 31234 tmuxme@127.0.0.1";
const session: PairingSession = {
  id: 's1', role: 'guest', host: { username: 'hana' }, port: 31234, tunnelHost: 'box', tunnelPort: 2222, tunnelHostKey: 'ssh-ed25519 BOX',
  guests: [{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }], private: false,
  joinCommand: 'ssh -p 31234 tmuxme@box', jumpJoinCommand: jump,
  createdAt: '2026-03-01T09:30:00.000Z', expiresAt: '2026-03-01T09:40:00.000Z',
};
const pinned = { hostKey: 'ssh-ed25519 HOST', hostKeyFingerprint: 'SHA256:h', pinnedJoinCommand: 'ssh -o KnownHostsCommand=x -p 31234 tmuxme@box', pinnedJumpJoinCommand: pinnedJump };

describe('tmuxme sessions', () => {
  it('lists a public session with the direct command first, then the one through the SSH port', () => {
    expect(describeSession(session).split('\n')).toEqual([
      's1  hosted by hana, guests: alice, bob (read-only)  (since 2026-03-01 09:30 UTC)',
      '  join:           tmuxme join s1',
      '  without tmuxme: ssh -p 31234 tmuxme@box',
      `  via SSH port:   ${jump}`,
      '  host key:       not declared (`tmuxme join` needs --insecure-accept-new)',
    ]);
  });

  it('shows the pinned variants when the host declared a key', () => {
    expect(describeSession({ ...session, ...pinned }).split('\n').slice(2)).toEqual([
      '  without tmuxme: ssh -o KnownHostsCommand=x -p 31234 tmuxme@box',
      `  via SSH port:   ${pinnedJump}`,
      '  host key:       SHA256:h',
    ]);
  });

  it('for a private session: why, and only the command through the SSH port', () => {
    const privately = { ...session, ...pinned, private: true, role: 'host' as const, joinCommand: jump, pinnedJoinCommand: pinnedJump };
    const lines = describeSession(privately).split('\n');
    expect(lines).toEqual([
      's1  you host, guests: alice, bob (read-only)  (since 2026-03-01 09:30 UTC)',
      "  private: reachable only through the relay's SSH port, for invited guests",
      '  join:           tmuxme join s1',
      `  without tmuxme: ${pinnedJump}`,
      '  host key:       SHA256:h',
    ]);
  });
});

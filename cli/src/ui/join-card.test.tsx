import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { JoinCard } from './join-card.js';

const session = { id: 's1', joinCommand: 'ssh -p 20001 tmuxme@tunnel.tmux.me', guests: [], attachCommand: [] };

describe('JoinCard', () => {
  it('shows the join command, the host key fingerprint and the pinned variant', () => {
    const frame = render(<JoinCard session={{ ...session, hostKeyFingerprint: 'SHA256:abc', pinnedJoinCommand: 'ssh -o KnownHostsCommand=x -p 20001 tmuxme@tunnel.tmux.me' }} />).lastFrame()!;
    expect(frame).toContain('Your guests were mailed. They join with:');
    expect(frame).toContain('ssh -p 20001 tmuxme@tunnel.tmux.me');
    expect(frame).toContain('host key SHA256:abc');
    expect(frame).toContain('with the host key pinned');
    expect(frame).toContain('tmuxme join s1');
  });

  it('leaves the pinned lines out when no host key was declared', () => {
    const frame = render(<JoinCard session={session} />).lastFrame()!;
    expect(frame).toContain('ssh -p 20001 tmuxme@tunnel.tmux.me');
    expect(frame).not.toContain('host key');
  });
});

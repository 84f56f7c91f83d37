import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { privateReason } from '../lib/join-commands.js';
import { JoinCard } from './join-card.js';

const session = {
  id: 's1', private: false, joinCommand: 'ssh -p 20001 tmuxme@tunnel.tmux.me',
  jumpJoinCommand: 'ssh -J join@tunnel.tmux.me -o HostKeyAlias=tunnel.tmux.me:20001 -p 20001 tmuxme@127.0.0.1', guests: [], attachCommand: [],
};
const pinned = {
  hostKeyFingerprint: 'SHA256:abc', pinnedJoinCommand: 'ssh -o KnownHostsCommand=x -p 20001 tmuxme@tunnel.tmux.me',
  pinnedJumpJoinCommand: 'ssh -o KnownHostsCommand=y -o ProxyCommand=z -p 20001 tmuxme@127.0.0.1',
};
/** The frame's lines without the border, so a test can read them in order. */
const lines = (frame: string) => frame.split('\n').map((line) => line.replace(/^[│╭╰]\s?|\s*[│╮╯]$/g, '').trim()).filter((line) => !/^─*$/.test(line));

describe('JoinCard', () => {
  it('shows the join command, the host key fingerprint, the pinned variant, then the way through the SSH port', () => {
    expect(lines(render(<JoinCard session={{ ...session, ...pinned }} />).lastFrame()!)).toEqual([
      'Your guests were mailed. They join with:',
      'ssh -p 20001 tmuxme@tunnel.tmux.me',
      'host key SHA256:abc',
      'or, with the host key pinned (nothing to confirm):',
      'ssh -o KnownHostsCommand=x -p 20001 tmuxme@tunnel.tmux.me',
      'or, where only the box\'s SSH port gets through:',
      'ssh -J join@tunnel.tmux.me -o HostKeyAlias=tunnel.tmux.me:20001 -p 20001 tmuxme@127.0.0.1',
      'or `tmuxme join s1` (it finds the way that gets through)',
    ]);
  });

  it('after a move: when and where it moved, then the new commands the guests were mailed', () => {
    const moved = {
      from: { tunnelHost: 'tunnel.tmux.me', port: 20001 }, to: { tunnelHost: 'tunnel2.tmux.me', port: 20002 }, at: new Date(2026, 0, 1, 14, 5).getTime(),
    };
    const onBoxTwo = {
      ...session, joinCommand: 'ssh -p 20002 tmuxme@tunnel2.tmux.me', jumpJoinCommand: 'ssh -J join@tunnel2.tmux.me -o HostKeyAlias=tunnel2.tmux.me:20002 -p 20002 tmuxme@127.0.0.1',
    };
    expect(lines(render(<JoinCard session={onBoxTwo} moved={moved} />).lastFrame()!)).toEqual([
      'Moved at 14:05 to tunnel2.tmux.me port 20002: tunnel.tmux.me stopped answering.',
      'Your guests were mailed the new command. They join with:',
      'ssh -p 20002 tmuxme@tunnel2.tmux.me',
      'or, where only the box\'s SSH port gets through:',
      'ssh -J join@tunnel2.tmux.me -o HostKeyAlias=tunnel2.tmux.me:20002 -p 20002 tmuxme@127.0.0.1',
      'or `tmuxme join s1` (it finds the way that gets through)',
    ]);
  });

  it('leaves the pinned lines out when no host key was declared', () => {
    const frame = render(<JoinCard session={session} />).lastFrame()!;
    expect(frame).toContain('ssh -p 20001 tmuxme@tunnel.tmux.me');
    expect(frame).toContain('ssh -J join@tunnel.tmux.me');
    expect(frame).not.toContain('host key');
  });

  it('for a private session: only the jump commands, and why', () => {
    const privately = { ...session, ...pinned, private: true, joinCommand: session.jumpJoinCommand, pinnedJoinCommand: pinned.pinnedJumpJoinCommand };
    const frame = render(<JoinCard session={privately} />).lastFrame()!;
    expect(lines(frame)).toEqual([
      'Your guests were mailed. They join with:',
      'ssh -J join@tunnel.tmux.me -o HostKeyAlias=tunnel.tmux.me:20001 -p 20001 tmuxme@127.0.0.1',
      privateReason,
      'host key SHA256:abc',
      'or, with the host key pinned (nothing to confirm):',
      'ssh -o KnownHostsCommand=y -o ProxyCommand=z -p 20001 tmuxme@127.0.0.1',
      'or `tmuxme join s1`',
    ]);
    expect(frame).not.toContain('-p 20001 tmuxme@tunnel.tmux.me');
  });
});

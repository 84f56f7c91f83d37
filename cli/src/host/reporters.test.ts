import { describe, expect, it } from '@jest/globals';
import type { HostEvent } from './host-events.js';
import { jsonReporter, lineReporter } from './reporters.js';

const session = {
  id: 's1', private: false, joinCommand: 'ssh -p 20001 tmuxme@box', hostKeyFingerprint: 'SHA256:k', pinnedJoinCommand: 'ssh -o X -p 20001 tmuxme@box',
  jumpJoinCommand: 'ssh -J join@box -o HostKeyAlias=box:20001 -p 20001 tmuxme@127.0.0.1', pinnedJumpJoinCommand: 'ssh -o Y -o ProxyCommand=Z -p 20001 tmuxme@127.0.0.1',
  guests: [{ username: 'alice', access: 'rw' as const }, { username: 'bob', access: 'ro' as const }], attachCommand: [],
};
const since = new Date(0);
const at = (hour: number, minute: number) => new Date(2026, 10, 25, hour, minute).getTime();
const alice = { username: 'alice', readOnly: false, since, connectionId: '1' };
const bob = { username: 'bob', readOnly: true, since, connectionId: '2' };
const events: HostEvent[] = [
  { type: 'mode', mode: 'embedded', reason: 'no root: serving SSH from tmuxme itself' },
  { type: 'step', id: 'local-user', status: 'running', at: 0 },
  { type: 'step', id: 'local-user', status: 'done', at: 100 },
  { type: 'step', id: 'lease', status: 'running', at: 1_000 },
  { type: 'step', id: 'lease', status: 'done', at: 1_250, detail: 'port 20001 on box' },
  { type: 'notice', message: 'asking sudo' },
  { type: 'notice', message: 'Refused alice\'s env request: setting "LD_PRELOAD"', quiet: true },
  { type: 'ready', session },
  { type: 'guest', change: 'connected', guest: alice, at: at(14, 5) },
  { type: 'guests', connected: [alice] },
  { type: 'guest', change: 'left', guest: alice, at: at(14, 20) },
  { type: 'guest', change: 'connected', guest: bob, at: at(14, 20) },
  { type: 'guests', connected: [bob] },
  {
    type: 'moved', session: { ...session, joinCommand: 'ssh -p 20002 tmuxme@box-b' }, at: at(14, 30),
    from: { tunnelHost: 'box', port: 20001 }, to: { tunnelHost: 'box-b', port: 20002 },
  },
  { type: 'ended', reason: 'the tmux session ended', problems: ['could not end the session: gone'] },
];

describe('reporters', () => {
  it('--no-tui: a line per step with its time, the join command, comings and goings', () => {
    const lines: string[] = [];
    events.forEach(lineReporter((line) => lines.push(line)));
    expect(lines).toEqual([
      'mode: no root: serving SSH from tmuxme itself',
      '[..] Host key and a private tmux',
      '[ok] Host key and a private tmux (0.1 s)',
      '[..] Lease a port on the tunnel box',
      '[ok] Lease a port on the tunnel box (0.3 s): port 20001 on box',
      'note: asking sudo',
      'note: Refused alice\'s env request: setting "LD_PRELOAD"',
      'Guests join with: ssh -p 20001 tmuxme@box',
      'Host key: SHA256:k',
      'Pinned: ssh -o X -p 20001 tmuxme@box',
      'Through the box\'s SSH port: ssh -J join@box -o HostKeyAlias=box:20001 -p 20001 tmuxme@127.0.0.1',
      'Pinned, through the SSH port: ssh -o Y -o ProxyCommand=Z -p 20001 tmuxme@127.0.0.1',
      'Invited: alice, bob (read-only)',
      'alice connected (may type) at 14:05',
      'alice left at 14:20',
      'bob connected (read-only) at 14:20',
      'Moved to box-b port 20002; the guests were mailed the new command: ssh -p 20002 tmuxme@box-b',
      'Session over (the tmux session ended).',
      'problem: could not end the session: gone',
    ]);
  });

  it('--no-tui, after a private session moved: the jump command, the only one its guests were mailed', () => {
    const lines: string[] = [];
    const privately = { ...session, private: true, joinCommand: 'ssh -J join@box-b -p 20002 tmuxme@127.0.0.1', jumpJoinCommand: 'ssh -J join@box-b -p 20002 tmuxme@127.0.0.1' };
    lineReporter((line) => lines.push(line))({ type: 'moved', session: privately, at: 0, from: { tunnelHost: 'box', port: 20001 }, to: { tunnelHost: 'box-b', port: 20002 } });
    expect(lines).toEqual(['Moved to box-b port 20002; the guests were mailed the new command: ssh -J join@box-b -p 20002 tmuxme@127.0.0.1']);
  });

  it('--no-tui, for a private session: why, and only the commands through the SSH port', () => {
    const lines: string[] = [];
    const privately = { ...session, private: true, joinCommand: session.jumpJoinCommand, pinnedJoinCommand: session.pinnedJumpJoinCommand };
    lineReporter((line) => lines.push(line))({ type: 'ready', session: privately });
    expect(lines).toEqual([
      "private: reachable only through the relay's SSH port, for invited guests",
      'Guests join with: ssh -J join@box -o HostKeyAlias=box:20001 -p 20001 tmuxme@127.0.0.1',
      'Host key: SHA256:k',
      'Pinned: ssh -o Y -o ProxyCommand=Z -p 20001 tmuxme@127.0.0.1',
      'Invited: alice, bob (read-only)',
    ]);
  });

  it('--no-tui, with --keep-tmux: how the session ends, and how to attach to the tmux left running', () => {
    const lines: string[] = [];
    const report = lineReporter((line) => lines.push(line));
    report({ type: 'ending', reason: 'the terminal closed (SIGHUP)' });
    report({ type: 'ended', reason: 'the terminal closed (SIGHUP)', problems: [], keptTmux: 'tmux -S /tmp/s attach-session' });
    expect(lines).toEqual([
      'Ending the session: the terminal closed (SIGHUP)',
      'Session over (the terminal closed (SIGHUP)).',
      'Your tmux session goes on (--keep-tmux); attach to it with: tmux -S /tmp/s attach-session',
    ]);
  });

  it('--json: one parseable line per event, the ready one with every join command', () => {
    const lines: string[] = [];
    events.forEach(jsonReporter((line) => lines.push(line)));
    expect(lines.map((line) => JSON.parse(line).type)).toEqual(events.map((e) => e.type));
    expect(JSON.parse(lines.find((line) => line.includes('"ready"'))!).session).toMatchObject({
      private: false, joinCommand: session.joinCommand, jumpJoinCommand: session.jumpJoinCommand, pinnedJumpJoinCommand: session.pinnedJumpJoinCommand,
    });
    expect(JSON.parse(lines.find((line) => line.includes('"moved"'))!)).toMatchObject({
      from: { tunnelHost: 'box', port: 20001 }, to: { tunnelHost: 'box-b', port: 20002 }, at: at(14, 30), session: { joinCommand: 'ssh -p 20002 tmuxme@box-b' },
    });
  });
});

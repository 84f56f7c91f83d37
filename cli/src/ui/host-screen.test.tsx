import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { initialHostView, reduceHostView } from '../host/host-view.js';
import type { HostEvent } from '../host/host-events.js';
import { HostScreen } from './host-screen.js';

const fold = (events: HostEvent[]) => events.reduce(reduceHostView, initialHostView());
const ready: HostEvent = {
  type: 'ready',
  session: {
    id: 's1', private: false, joinCommand: 'ssh -p 20001 tmuxme@box', jumpJoinCommand: 'ssh -J join@box -o HostKeyAlias=box:20001 -p 20001 tmuxme@127.0.0.1',
    guests: [{ username: 'alice', access: 'rw' }], attachCommand: ['tmux'],
  },
};

describe('HostScreen', () => {
  it('while setting up: the steps, a notice, and how to stop', () => {
    const frame = render(<HostScreen now={1_000} view={fold([
      { type: 'step', id: 'local-user', status: 'running', at: 0 },
      { type: 'notice', message: 'Creating the tmuxme user needs root: asking sudo.' },
    ])} />).lastFrame()!;
    expect(frame).toContain('… Local tmuxme user 1.0 s');
    expect(frame).toContain('Creating the tmuxme user needs root: asking sudo.');
    expect(frame).toContain('Ctrl-C stops and undoes what was done.');
    expect(frame).not.toContain('They join with');
  });

  it('once ready: the join command, the guests and the keys', () => {
    const frame = render(<HostScreen now={0} view={fold([ready])} />).lastFrame()!;
    expect(frame).toContain('ssh -p 20001 tmuxme@box');
    expect(frame).toContain('where only the box\'s SSH port gets through');
    expect(frame).toContain('○ alice may type not connected');
    expect(frame).toContain('Enter attach to tmux');
    expect(frame).toContain('q end the session');
    expect(frame).not.toContain('disconnect');
  });

  it('in embedded mode: the mode line on top, its own step titles, and the disconnect keys with their confirmation', () => {
    const embedded: HostEvent = { type: 'mode', mode: 'embedded', reason: 'no root or sshd needed: serving SSH from tmuxme itself' };
    const alice = { username: 'alice', readOnly: false, since: new Date(2026, 0, 1, 9, 30), connectionId: '1' };
    const view = fold([embedded, ready, { type: 'guests', connected: [alice] }]);
    const frame = render(<HostScreen now={0} view={view} picker={{ selected: 'alice' }} />).lastFrame()!;
    expect(frame.split('\n')[0]).toBe('no root or sshd needed: serving SSH from tmuxme itself');
    expect(frame).toContain('· Host key and a private tmux');
    expect(frame).toContain('· Let the guests in (keys served by tmuxme)');
    expect(frame).not.toContain('Local tmuxme user');
    expect(frame).not.toContain('authorized_keys');
    expect(frame).toContain('› ● alice may type connected since 09:30');
    expect(frame).toContain('↑↓ choose a guest · d disconnect them');

    const asking = render(<HostScreen now={0} view={view} picker={{ selected: 'alice', confirming: 'alice' }} />).lastFrame()!;
    expect(asking).toContain('Disconnect alice? y yes · any other key keeps them');
    expect(asking).not.toContain('Enter attach');
  });

  it('after a move: the new join command in place of the old, and the notices that told of it', () => {
    const session = { ...(ready as Extract<HostEvent, { type: 'ready' }>).session, joinCommand: 'ssh -p 20002 tmuxme@box-b', jumpJoinCommand: 'ssh -J join@box-b -p 20002 tmuxme@127.0.0.1' };
    const frame = render(<HostScreen now={0} view={fold([
      ready,
      { type: 'notice', message: 'The tunnel box box stopped answering; moving the session to another box…' },
      { type: 'moved', session, from: { tunnelHost: 'box', port: 20001 }, to: { tunnelHost: 'box-b', port: 20002 }, at: new Date(2026, 0, 1, 9, 30).getTime() },
    ])} />).lastFrame()!;
    expect(frame).toContain('The tunnel box box stopped answering; moving the session to another box…');
    expect(frame).toContain('Moved at 09:30 to box-b port 20002: box stopped answering.');
    expect(frame).toContain('ssh -p 20002 tmuxme@box-b');
    expect(frame).not.toContain('ssh -p 20001 tmuxme@box');
    expect(frame).toContain('Enter attach to tmux');
  });

  it('at the end: what was undone, and anything that could not be', () => {
    const frame = render(<HostScreen now={0} view={fold([ready, { type: 'ended', reason: 'you quit', problems: ['could not end the session: server unreachable'] }])} />).lastFrame()!;
    expect(frame).toContain('Session over (you quit)');
    expect(frame).toContain('could not end the session: server unreachable');
    expect(frame).not.toContain('Enter attach');
    expect(frame).not.toContain('goes on');
  });

  it('at the end with --keep-tmux: how to attach to the tmux left running', () => {
    const frame = render(<HostScreen now={0} view={fold([ready, { type: 'ended', reason: 'the terminal closed (SIGHUP)', problems: [], keptTmux: 'tmux -S /tmp/s attach-session' }])} />).lastFrame()!;
    expect(frame).toContain('Session over (the terminal closed (SIGHUP))');
    expect(frame).toContain('Your tmux session goes on (--keep-tmux); attach to it with: tmux -S /tmp/s attach-session');
  });
});

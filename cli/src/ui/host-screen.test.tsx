import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { initialHostView, reduceHostView } from '../host/host-view.js';
import type { HostEvent } from '../host/host-events.js';
import { HostScreen } from './host-screen.js';

const fold = (events: HostEvent[]) => events.reduce(reduceHostView, initialHostView());
const ready: HostEvent = {
  type: 'ready',
  session: { id: 's1', joinCommand: 'ssh -p 20001 tmuxme@box', guests: [{ username: 'alice', access: 'rw' }], attachCommand: ['tmux'] },
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
    expect(frame).toContain('○ alice may type not connected');
    expect(frame).toContain('Enter attach to tmux');
    expect(frame).toContain('q end the session');
  });

  it('at the end: what was undone, and anything that could not be', () => {
    const frame = render(<HostScreen now={0} view={fold([ready, { type: 'ended', reason: 'you quit', problems: ['could not end the session: server unreachable'] }])} />).lastFrame()!;
    expect(frame).toContain('Session over (you quit)');
    expect(frame).toContain('could not end the session: server unreachable');
    expect(frame).not.toContain('Enter attach');
  });
});

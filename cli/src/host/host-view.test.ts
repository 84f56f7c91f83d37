import { describe, expect, it } from '@jest/globals';
import type { HostEvent } from './host-events.js';
import { initialHostView, reduceHostView } from './host-view.js';

const fold = (events: HostEvent[]) => events.reduce(reduceHostView, initialHostView());
const since = new Date(0);
const alice = { username: 'alice', readOnly: false, since, connectionId: '1' };

describe('the host view', () => {
  it('keeps the seed\'s step titles until told the mode, and names the embedded mode\'s steps for what they do', () => {
    expect(initialHostView().steps.map((step) => step.title)).toContain('Local tmuxme user');
    const view = fold([
      { type: 'step', id: 'local-user', status: 'done', at: 5, detail: 'none needed' },
      { type: 'mode', mode: 'embedded', reason: 'no root: serving SSH from tmuxme itself' },
    ]);
    expect(view.mode).toEqual({ mode: 'embedded', reason: 'no root: serving SSH from tmuxme itself' });
    expect(view.steps[0]).toMatchObject({ id: 'local-user', title: 'Host key and a private tmux', status: 'done', detail: 'none needed' });
    expect(view.steps.map((step) => step.title).join(' ')).not.toMatch(/tmuxme user|authorized_keys/);
    expect(fold([{ type: 'mode', mode: 'system-sshd', reason: 'asked for' }]).steps.map((step) => step.title))
      .toEqual(initialHostView().steps.map((step) => step.title));
  });

  it('lists who is connected, and remembers when each connection left', () => {
    const view = fold([
      { type: 'guest', change: 'connected', guest: alice, at: 10 },
      { type: 'guests', connected: [alice] },
      { type: 'guest', change: 'left', guest: alice, at: 20 },
      { type: 'guests', connected: [] },
    ]);
    expect(view.connected).toEqual([]);
    expect(view.departed).toEqual([{ guest: alice, at: 20 }]);
  });

  it('after a move, holds the session\'s new join commands and where it moved from and to', () => {
    const session = { id: 's1', private: false, joinCommand: 'ssh -p 20001 tmuxme@box-a', jumpJoinCommand: 'j-a', guests: [], attachCommand: [] };
    const moved = { ...session, joinCommand: 'ssh -p 20002 tmuxme@box-b', jumpJoinCommand: 'j-b' };
    const from = { tunnelHost: 'box-a', port: 20001 };
    const to = { tunnelHost: 'box-b', port: 20002 };
    const view = fold([{ type: 'ready', session }, { type: 'guests', connected: [alice] }, { type: 'moved', session: moved, from, to, at: 30 }]);
    expect(view).toMatchObject({ phase: 'ready', session: moved, moved: { from, to, at: 30 }, connected: [alice] });
    expect(fold([{ type: 'ready', session }]).moved).toBeUndefined();
  });

  it('shows notices, but not the quiet ones (a guest\'s refused variable), which only the log and --no-tui lines carry', () => {
    const view = fold([
      { type: 'notice', message: 'Refused alice\'s port forwarding request: a local forward (-L) to 127.0.0.1:22' },
      { type: 'notice', message: 'Refused alice\'s env request: setting "LD_PRELOAD" (only TERM, LANG and LC_* are accepted)', quiet: true },
    ]);
    expect(view.notices).toEqual(['Refused alice\'s port forwarding request: a local forward (-L) to 127.0.0.1:22']);
  });

  it('keeps only each guest\'s last departure, however often they come and go', () => {
    const bob = { username: 'bob', readOnly: true, since, connectionId: '2' };
    const aliceLeaving = Array.from({ length: 50 }, (_, i): HostEvent => ({
      type: 'guest', change: 'left', guest: { ...alice, connectionId: String(10 + i) }, at: 100 + i,
    }));
    const view = fold([{ type: 'guest', change: 'left', guest: bob, at: 50 }, ...aliceLeaving]);
    expect(view.departed).toEqual([{ guest: bob, at: 50 }, { guest: { ...alice, connectionId: '59' }, at: 149 }]);
  });
});

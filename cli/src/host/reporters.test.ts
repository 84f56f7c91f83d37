import { describe, expect, it } from '@jest/globals';
import type { HostEvent } from './host-events.js';
import { jsonReporter, lineReporter } from './reporters.js';

const session = {
  id: 's1', joinCommand: 'ssh -p 20001 tmuxme@box', hostKeyFingerprint: 'SHA256:k', pinnedJoinCommand: 'ssh -o X -p 20001 tmuxme@box',
  guests: [{ username: 'alice', access: 'rw' as const }, { username: 'bob', access: 'ro' as const }], attachCommand: [],
};
const since = new Date(0);
const events: HostEvent[] = [
  { type: 'step', id: 'lease', status: 'running', at: 1_000 },
  { type: 'step', id: 'lease', status: 'done', at: 1_250, detail: 'port 20001 on box' },
  { type: 'notice', message: 'asking sudo' },
  { type: 'ready', session },
  { type: 'guests', connected: [{ username: 'alice', readOnly: false, since }] },
  { type: 'guests', connected: [{ username: 'alice', readOnly: false, since }] },
  { type: 'guests', connected: [{ username: 'bob', readOnly: true, since }] },
  { type: 'ended', reason: 'the tmux session ended', problems: ['could not end the session: gone'] },
];

describe('reporters', () => {
  it('--no-tui: a line per step with its time, the join command, comings and goings', () => {
    const lines: string[] = [];
    events.forEach(lineReporter((line) => lines.push(line)));
    expect(lines).toEqual([
      '[..] Lease a port on the tunnel box',
      '[ok] Lease a port on the tunnel box (0.3 s): port 20001 on box',
      'note: asking sudo',
      'Guests join with: ssh -p 20001 tmuxme@box',
      'Host key: SHA256:k',
      'Pinned: ssh -o X -p 20001 tmuxme@box',
      'Invited: alice, bob (read-only)',
      'alice connected',
      'bob connected',
      'alice left',
      'Session over (the tmux session ended).',
      'problem: could not end the session: gone',
    ]);
  });

  it('--json: one parseable line per event', () => {
    const lines: string[] = [];
    events.forEach(jsonReporter((line) => lines.push(line)));
    expect(lines.map((line) => JSON.parse(line).type)).toEqual(events.map((e) => e.type));
  });
});

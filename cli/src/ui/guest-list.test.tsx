import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { GuestList } from './guest-list.js';

const since = new Date(2026, 10, 25, 14, 5);
const invited = [{ username: 'alice', access: 'rw' as const }, { username: 'bob', access: 'ro' as const }];

describe('GuestList', () => {
  it('shows who is connected, since when, and how each takes part', () => {
    const { lastFrame } = render(<GuestList invited={invited} connected={[{ username: 'alice', readOnly: false, since }, { readOnly: true, since }]} />);
    expect(lastFrame()).toBe([
      'Guests',
      '● alice may type connected since 14:05',
      '○ bob watches (read-only) not connected',
      '1 other terminal(s) attached',
    ].join('\n'));
  });

  it('says when a guest left, and marks the guest chosen for disconnecting', () => {
    const { lastFrame } = render(<GuestList
      invited={invited}
      connected={[{ username: 'alice', readOnly: false, since, connectionId: '1' }, { username: 'alice', readOnly: false, since, connectionId: '3' }]}
      departed={[{ guest: { username: 'bob', readOnly: true, since }, at: new Date(2026, 10, 25, 14, 7).getTime() },
        { guest: { username: 'bob', readOnly: true, since }, at: new Date(2026, 10, 25, 14, 20).getTime() }]}
      selectable
      selected="alice"
    />);
    expect(lastFrame()).toBe([
      'Guests',
      '› ● alice may type connected since 14:05 (2 terminals)',
      '  ○ bob watches (read-only) left at 14:20',
    ].join('\n'));
  });
});

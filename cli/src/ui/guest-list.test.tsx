import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { GuestList } from './guest-list.js';

describe('GuestList', () => {
  it('shows who is connected, since when, and how each takes part', () => {
    const since = new Date(2026, 10, 25, 14, 5);
    const { lastFrame } = render(<GuestList
      invited={[{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }]}
      connected={[{ username: 'alice', readOnly: false, since }, { readOnly: true, since }]}
    />);
    expect(lastFrame()).toBe([
      'Guests',
      '● alice may type connected since 14:05',
      '○ bob watches (read-only) not connected',
      '1 other terminal(s) attached',
    ].join('\n'));
  });
});

import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { StepList } from './step-list.js';

describe('StepList', () => {
  it('shows each step with its state, its time and what it found', () => {
    const { lastFrame } = render(<StepList now={5_000} steps={[
      { id: 'local-user', title: 'Local tmuxme user', status: 'done', startedAt: 1_000, endedAt: 1_400, detail: 'exists' },
      { id: 'guest-keys', title: "Fetch the guests' keys", status: 'running', startedAt: 2_000 },
      { id: 'lease', title: 'Lease a port on the tunnel box', status: 'failed', startedAt: 0, endedAt: 12_400, detail: 'no free port' },
      { id: 'tmux', title: 'Start tmux', status: 'pending' },
    ]} />);
    expect(lastFrame()).toBe([
      '✔ Local tmuxme user 0.4 s exists',
      "… Fetch the guests' keys 3.0 s",
      '✘ Lease a port on the tunnel box 12 s no free port',
      '· Start tmux',
    ].join('\n'));
  });
});

import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { HostStore } from '../host/host-store.js';
import { HostApp } from './host-app.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('HostApp', () => {
  it('follows the flow as it happens, attaches on Enter once ready, and quits on q', async () => {
    const store = new HostStore();
    const calls: string[] = [];
    const { lastFrame, stdin } = render(<HostApp store={store} onAttach={() => calls.push('attach')} onQuit={() => calls.push('quit')} />);
    store.dispatch({ type: 'step', id: 'local-user', status: 'done', at: Date.now() });
    await tick();
    expect(lastFrame()).toContain('✔ Local tmuxme user');
    stdin.write('\r');
    await tick();
    expect(calls).toEqual([]);

    store.dispatch({ type: 'ready', session: { id: 's1', joinCommand: 'ssh -p 20001 tmuxme@box', guests: [{ username: 'bob', access: 'ro' }], attachCommand: [] } });
    store.dispatch({ type: 'guests', connected: [{ username: 'bob', readOnly: true, since: new Date(2026, 0, 1, 9, 30) }] });
    await tick();
    expect(lastFrame()).toContain('● bob watches (read-only) connected since 09:30');
    stdin.write('\r');
    await tick();
    stdin.write('q');
    await tick();
    expect(calls).toEqual(['attach', 'quit']);
  });
});

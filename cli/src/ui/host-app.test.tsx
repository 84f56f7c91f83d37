import { describe, expect, it } from '@jest/globals';
import { render } from 'ink-testing-library';
import { HostStore } from '../host/host-store.js';
import { eventually } from '../../test/eventually.js';
import { HostApp } from './host-app.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('HostApp', () => {
  it('follows the flow as it happens, attaches on Enter once ready, and quits on q', async () => {
    const store = new HostStore();
    const calls: string[] = [];
    const { lastFrame, stdin } = render(<HostApp
      store={store} onAttach={() => calls.push('attach')} onQuit={() => calls.push('quit')} onDisconnect={(ids) => calls.push(`disconnect ${ids}`)}
    />);
    store.dispatch({ type: 'step', id: 'local-user', status: 'done', at: Date.now() });
    await tick();
    expect(lastFrame()).toContain('✔ Local tmuxme user');
    stdin.write('\r');
    await tick();
    expect(calls).toEqual([]);

    store.dispatch({ type: 'ready', session: { id: 's1', private: false, joinCommand: 'ssh -p 20001 tmuxme@box', jumpJoinCommand: 'ssh -J join@box', guests: [{ username: 'bob', access: 'ro' }], attachCommand: [] } });
    store.dispatch({ type: 'guests', connected: [{ username: 'bob', readOnly: true, since: new Date(2026, 0, 1, 9, 30) }] });
    await tick();
    expect(lastFrame()).toContain('● bob watches (read-only) connected since 09:30');
    stdin.write('\r');
    await tick();
    stdin.write('q');
    await tick();
    expect(calls).toEqual(['attach', 'quit']);
  });

  it('disconnects the guest chosen with the arrow keys once d is confirmed with y, and not on any other answer', async () => {
    const store = new HostStore();
    const calls: string[] = [];
    const { lastFrame, stdin } = render(<HostApp
      store={store} onAttach={() => calls.push('attach')} onQuit={() => calls.push('quit')} onDisconnect={(ids) => calls.push(`disconnect ${ids}`)}
    />);
    // Each key is sent once the frame shows the last one's effect: the keys' handler sees the state that frame drew.
    const shows = (text: string, present = true) => eventually(() => lastFrame()!.includes(text) === present, `the frame ${present ? 'shows' : 'no longer shows'} ${text}`);
    const since = new Date(2026, 0, 1, 9, 30);
    store.dispatch({ type: 'ready', session: { id: 's1', private: false, joinCommand: 'ssh', jumpJoinCommand: 'ssh -J join@box', guests: [{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }], attachCommand: [] } });
    store.dispatch({ type: 'guests', connected: [
      { username: 'alice', readOnly: false, since, connectionId: '1' },
      { username: 'bob', readOnly: true, since, connectionId: '2' },
      { username: 'bob', readOnly: true, since, connectionId: '4' },
    ] });
    await shows('› ● alice');

    stdin.write('\u001B[B');
    await shows('› ● bob');
    stdin.write('d');
    await shows('Disconnect bob? y yes');
    stdin.write('q');
    await shows('Disconnect bob?', false);
    expect(calls).toEqual([]);

    stdin.write('d');
    await shows('Disconnect bob? y yes');
    stdin.write('y');
    await shows('Enter attach');
    expect(calls).toEqual(['disconnect 2,4']);
  });
});

import { describe, expect, it, jest } from '@jest/globals';
import { screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import type { Api, PairingSession } from '../api.js';
import { fakeApi, renderPage } from '../test-support.js';
import { SessionsPage } from './sessions-page.js';

const fingerprint = 'SHA256:4a0Ck5dSW0uG7rD1xvJbH2YV2sXh5fQjC3d3Q2yQbGw';
const invited: PairingSession = {
  id: 's1', role: 'guest', host: { username: 'pat' }, port: 20417, tunnelHost: 'tunnel.tmux.me',
  guests: [{ username: 'ada', access: 'rw' }, { username: 'bob', access: 'ro' }],
  joinCommand: 'ssh -p 20417 tmuxme@tunnel.tmux.me', hostKeyFingerprint: fingerprint,
  pinnedJoinCommand: 'ssh -o KnownHostsCommand="/bin/echo %H ssh-ed25519 AAAA" -p 20417 tmuxme@tunnel.tmux.me',
  createdAt: '2025-03-02T10:00:00.000Z', expiresAt: '2025-03-02T10:01:30.000Z',
};
const hosted: PairingSession = {
  ...invited, id: 's2', role: 'host', host: { username: 'ada' }, guests: [{ username: 'pat', access: 'rw' }],
  hostKeyFingerprint: undefined, pinnedJoinCommand: undefined,
};

describe('the sessions page', () => {
  it('shows each live session with who hosts it, its guests, the host key fingerprint and the commands to copy', async () => {
    renderPage(<SessionsPage api={fakeApi({ listSessions: async () => [invited, hosted] })} />);
    const user = userEvent.setup();

    const card = (await screen.findByRole('heading', { name: 'Hosted by pat' })).closest('li')!;
    expect(within(card).getByText('ada, bob (watching)')).toBeTruthy();
    expect(within(card).getByText(fingerprint)).toBeTruthy();
    await user.click(within(card).getByRole('button', { name: 'Copy the join command of pat’s session that pins the host key' }));
    expect(await navigator.clipboard.readText()).toBe(invited.pinnedJoinCommand);
    await user.click(within(card).getByRole('button', { name: 'Copy the join command of pat’s session' }));
    expect(await navigator.clipboard.readText()).toBe(invited.joinCommand);

    const own = screen.getByRole('heading', { name: 'You are hosting' }).closest('li')!;
    expect(within(own).getByText('Not declared by the host')).toBeTruthy();
    expect(within(own).getAllByRole('button', { name: /^Copy/ })).toHaveLength(1);
  });

  it('says how to host one when there is none, and refreshes on demand', async () => {
    const listSessions = jest.fn<Api['listSessions']>().mockResolvedValueOnce([]).mockResolvedValue([invited]);
    renderPage(<SessionsPage api={fakeApi({ listSessions })} />);
    expect(await screen.findByText(/No live sessions/)).toBeTruthy();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Refresh' }));
    expect(await screen.findByRole('heading', { name: 'Hosted by pat' })).toBeTruthy();
  });

  it('says in words why the list could not be loaded', async () => {
    renderPage(<SessionsPage api={fakeApi({ listSessions: async () => { throw new Error('The server could not be reached.'); } })} />);
    expect((await screen.findByRole('alert')).textContent).toBe('The server could not be reached.');
  });
});

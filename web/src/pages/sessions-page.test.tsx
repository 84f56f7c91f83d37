import { describe, expect, it, jest } from '@jest/globals';
import { screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import type { Api, PairingSession } from '../api.js';
import { fakeApi, renderPage } from '../test-support.js';
import { SessionsPage } from './sessions-page.js';

const fingerprint = 'SHA256:4a0Ck5dSW0uG7rD1xvJbH2YV2sXh5fQjC3d3Q2yQbGw';
const jump = (port: number) => `ssh -J join@tunnel.tmux.me -o HostKeyAlias=tunnel.tmux.me:${port} -p ${port} tmuxme@127.0.0.1`;
const pinnedJump = (port: number) => `ssh -o KnownHostsCommand="/bin/echo %H ssh-ed25519 AAAA" -o ProxyCommand="ssh -o KnownHostsCommand='/bin/echo %%H ssh-ed25519 BBBB' `
  + `-p 22 -W %h:%p join@tunnel.tmux.me" -p ${port} tmuxme@127.0.0.1`;
const invited: PairingSession = {
  id: 's1', role: 'guest', host: { username: 'pat' }, port: 20417, tunnelHost: 'tunnel.tmux.me', tunnelPort: 22, private: false,
  guests: [{ username: 'ada', access: 'rw' }, { username: 'bob', access: 'ro' }],
  joinCommand: 'ssh -p 20417 tmuxme@tunnel.tmux.me', jumpJoinCommand: jump(20417), hostKeyFingerprint: fingerprint,
  pinnedJoinCommand: 'ssh -o KnownHostsCommand="/bin/echo %H ssh-ed25519 AAAA" -p 20417 tmuxme@tunnel.tmux.me', pinnedJumpJoinCommand: pinnedJump(20417),
  createdAt: '2025-03-02T10:00:00.000Z', expiresAt: '2025-03-02T10:01:30.000Z',
};
const hosted: PairingSession = {
  ...invited, id: 's2', role: 'host', host: { username: 'ada' }, guests: [{ username: 'pat', access: 'rw' }],
  hostKeyFingerprint: undefined, pinnedJoinCommand: undefined, pinnedJumpJoinCommand: undefined,
};
const hidden: PairingSession = {
  ...invited, id: 's3', host: { username: 'kim' }, port: 20555, private: true,
  joinCommand: jump(20555), jumpJoinCommand: jump(20555), pinnedJoinCommand: pinnedJump(20555), pinnedJumpJoinCommand: pinnedJump(20555),
};
const copied = async (user: ReturnType<typeof userEvent.setup>, card: HTMLElement, name: string) => {
  await user.click(within(card).getByRole('button', { name: `Copy ${name}` }));
  return navigator.clipboard.readText();
};

describe('the sessions page', () => {
  it('shows each live session with who hosts it, its guests, the host key fingerprint and the commands to copy', async () => {
    renderPage(<SessionsPage api={fakeApi({ listSessions: async () => [invited, hosted] })} />);
    const user = userEvent.setup();

    const card = (await screen.findByRole('heading', { name: 'Hosted by pat' })).closest('li')!;
    expect(within(card).getByText('ada, bob (watching)')).toBeTruthy();
    expect(within(card).getByText(fingerprint)).toBeTruthy();
    expect(await copied(user, card, 'the join command of pat’s session that pins the host key')).toBe(invited.pinnedJoinCommand);
    expect(await copied(user, card, 'the join command of pat’s session')).toBe(invited.joinCommand);
    expect(await copied(user, card, 'the SSH-port join command of pat’s session')).toBe(invited.jumpJoinCommand);
    expect(await copied(user, card, 'the SSH-port join command of pat’s session that pins both keys')).toBe(invited.pinnedJumpJoinCommand);
    expect(within(card).getByText(/only SSH’s port out, join through the relay’s SSH port \(22\)/)).toBeTruthy();
    // The direct ones first.
    const shown = within(card).getAllByRole('code').map((code) => code.textContent);
    expect(shown.slice(-4)).toEqual([invited.joinCommand, invited.pinnedJoinCommand, invited.jumpJoinCommand, invited.pinnedJumpJoinCommand]);

    const own = screen.getByRole('heading', { name: 'You are hosting' }).closest('li')!;
    expect(within(own).getByText('Not declared by the host')).toBeTruthy();
    expect(within(own).getAllByRole('button', { name: /^Copy/ }).map((button) => button.getAttribute('aria-label')))
      .toEqual(['Copy the join command of your session', 'Copy the SSH-port join command of your session']);
  });

  it('shows a private session with the jump commands only, and says why', async () => {
    renderPage(<SessionsPage api={fakeApi({ listSessions: async () => [hidden] })} />);
    const user = userEvent.setup();
    const card = (await screen.findByRole('heading', { name: 'Hosted by kim' })).closest('li')!;
    expect(card.textContent).toMatch(/This session is private: the host made its port reachable only through the relay’s SSH port \(22\)/);
    expect(await copied(user, card, 'the join command of kim’s session')).toBe(jump(20555));
    expect(await copied(user, card, 'the join command of kim’s session that pins both keys')).toBe(pinnedJump(20555));
    expect(within(card).getAllByRole('button', { name: /^Copy/ })).toHaveLength(2);
    expect(card.textContent).not.toMatch(/ssh -p 20555|only SSH’s port out/);
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

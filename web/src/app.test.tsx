import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import type { Api } from './api.js';
import { App } from './app.js';
import { safeNext } from './pages/login-page.js';
import { fakeApi, renderPage } from './test-support.js';

afterEach(() => window.history.replaceState(null, '', '/'));

describe('the app', () => {
  it('sends a logged-out visitor of a private page to the login page, and back after logging in', async () => {
    window.history.replaceState(null, '', '/keys');
    const login = jest.fn<Api['login']>().mockResolvedValue({ username: 'ada' });
    renderPage(<App api={fakeApi({ getSession: async () => null, login, listKeys: async () => [] })} origin="http://tmux.test" />);

    await waitFor(() => expect(window.location.pathname + window.location.search).toBe('/login?next=%2Fkeys'));
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Username or e-mail address'), 'ada');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Log in' }));

    await waitFor(() => expect(window.location.pathname).toBe('/keys'));
    expect(await screen.findByRole('heading', { level: 1, name: 'SSH keys' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Log out ada' })).toBeTruthy();
  });

  it('shows the CLI set-up for this very server on the home page', async () => {
    renderPage(<App api={fakeApi({ getSession: async () => null })} origin="http://tmux.test" />);
    expect(await screen.findByText('export TMUXME_SERVER=http://tmux.test')).toBeTruthy();
    expect(screen.getByText('npm install -g @tmuxme/cli')).toBeTruthy();
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeTruthy();
  });

  it('only follows a login to a path on this site', () => {
    expect(safeNext('/tokens')).toBe('/tokens');
    expect(safeNext('//evil.example/')).toBe('/sessions');
    expect(safeNext('https://evil.example/')).toBe('/sessions');
    expect(safeNext(null)).toBe('/sessions');
  });
});

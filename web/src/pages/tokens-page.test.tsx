import { describe, expect, it, jest } from '@jest/globals';
import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import type { Api, ApiToken } from '../api.js';
import { fakeApi, renderPage } from '../test-support.js';
import { TokensPage } from './tokens-page.js';

const secret = 'tmx_0123456789abcdefghijABCDEFGHIJ0123456789';
const ci: ApiToken = { id: 't2', name: 'ci', hint: 'tmx_…6789', createdAt: '2025-03-02T10:00:00.000Z', lastUsedAt: null };

describe('the API tokens page', () => {
  it('shows a new token once, with a copy button, and never after it is dismissed', async () => {
    const listTokens = jest.fn<Api['listTokens']>().mockResolvedValueOnce([]).mockResolvedValue([ci]);
    const createToken = jest.fn<Api['createToken']>().mockResolvedValue({ id: 't2', name: 'ci', token: secret });
    renderPage(<TokensPage api={fakeApi({ listTokens, createToken })} />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Token name'), 'ci');
    await user.click(screen.getByRole('button', { name: 'Create token' }));

    expect(await screen.findByText(secret)).toBeTruthy();
    expect(createToken).toHaveBeenCalledWith('ci');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Your new API token “ci”' }));
    await user.click(screen.getByRole('button', { name: 'Copy the API token ci' }));
    expect(await navigator.clipboard.readText()).toBe(secret);
    expect(screen.getByText('Copied.')).toBeTruthy();

    // The list shows only the hint; dismissing the reveal drops the secret from the page for good.
    const card = (await screen.findByRole('heading', { name: 'ci' })).closest('li')!;
    expect(within(card).getByText('tmx_…6789')).toBeTruthy();
    expect(within(card).getByText('Never')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'I have copied it' }));
    expect(document.body.textContent).not.toContain(secret);
  });

  it('revokes a token after the confirmation', async () => {
    const revokeToken = jest.fn<Api['revokeToken']>().mockResolvedValue(undefined);
    const listTokens = jest.fn<Api['listTokens']>().mockResolvedValueOnce([ci]).mockResolvedValue([]);
    renderPage(<TokensPage api={fakeApi({ listTokens, revokeToken })} />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Revoke' }));
    expect(revokeToken).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'Yes, revoke it' }));

    expect(revokeToken).toHaveBeenCalledWith('t2');
    await waitFor(() => expect(screen.getByText('No tokens: the CLI cannot log in until you create one.')).toBeTruthy());
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Your tokens' }));
  });
});

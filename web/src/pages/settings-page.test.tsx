import { describe, expect, it, jest } from '@jest/globals';
import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { ApiError, type Account, type Api } from '../api.js';
import { description, fakeApi, renderPage } from '../test-support.js';
import { SettingsPage } from './settings-page.js';

const account: Account = { username: 'ada', email: 'ada@example.com', createdAt: '2025-03-01T10:00:00.000Z' };
const confirmLabel = 'Type your username, ada, to confirm';

function renderSettings(methods: Partial<Api>, onDeleted: () => void = () => undefined) {
  renderPage(<SettingsPage api={fakeApi({ getAccount: async () => account, ...methods })} username="ada" onDeleted={onDeleted} />);
}

describe('the settings page', () => {
  it('deletes the account only when the username is typed exactly', async () => {
    const deleteAccount = jest.fn<Api['deleteAccount']>().mockResolvedValue(undefined);
    const onDeleted = jest.fn<() => void>();
    renderSettings({ deleteAccount }, onDeleted);
    const user = userEvent.setup();
    const confirmation = screen.getByLabelText(confirmLabel);
    await user.type(confirmation, 'Ada');
    await user.type(screen.getAllByLabelText('Password').at(-1)!, 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Delete my account' }));

    expect(deleteAccount).not.toHaveBeenCalled();
    expect(description(confirmation)).toBe('Type your username, ada, exactly as shown, to confirm.');
    expect(document.activeElement).toBe(confirmation);

    await user.clear(confirmation);
    await user.type(confirmation, 'ada');
    await user.click(screen.getByRole('button', { name: 'Delete my account' }));
    await waitFor(() => expect(onDeleted).toHaveBeenCalled());
    expect(deleteAccount).toHaveBeenCalledWith('correct horse');
  });

  it('shows a wrong password beside the deletion form\'s password field', async () => {
    const deleteAccount = jest.fn<Api['deleteAccount']>().mockRejectedValue(new ApiError(403, 'WRONG_PASSWORD', 'The password is not right.', 'password'));
    renderSettings({ deleteAccount });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(confirmLabel), 'ada');
    const password = screen.getAllByLabelText('Password').at(-1)!;
    await user.type(password, 'wrong one');
    await user.click(screen.getByRole('button', { name: 'Delete my account' }));

    await waitFor(() => expect(description(password)).toBe('The password is not right.'));
    expect(document.activeElement).toBe(password);
  });

  it('changes the e-mail address with the current password', async () => {
    const updateAccount = jest.fn<Api['updateAccount']>().mockResolvedValue({ ...account, email: 'ada@lovelace.org' });
    renderSettings({ updateAccount });
    const user = userEvent.setup();
    const email = await screen.findByDisplayValue('ada@example.com');
    await user.clear(email);
    await user.type(email, 'ada@lovelace.org');
    await user.type(screen.getAllByLabelText('Current password')[0]!, 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Change e-mail address' }));

    await waitFor(() => expect(screen.getByText('Your e-mail address is now ada@lovelace.org.')).toBeTruthy());
    expect(updateAccount).toHaveBeenCalledWith({ currentPassword: 'correct horse', email: 'ada@lovelace.org' });
  });

  it('checks the new password\'s confirmation before asking the server', async () => {
    const updateAccount = jest.fn<Api['updateAccount']>();
    renderSettings({ updateAccount });
    const user = userEvent.setup();
    await user.type(screen.getAllByLabelText('Current password').at(-1)!, 'correct horse');
    await user.type(screen.getByLabelText('New password'), 'battery staple');
    await user.type(screen.getByLabelText('New password again'), 'battery stapel');
    await user.click(screen.getByRole('button', { name: 'Change password' }));

    expect(updateAccount).not.toHaveBeenCalled();
    expect(description(screen.getByLabelText('New password again'))).toBe('The two new passwords differ; type the same one twice.');
  });
});

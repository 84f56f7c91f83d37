import { describe, expect, it, jest } from '@jest/globals';
import { screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { ApiError, type Api, type SshKey } from '../api.js';
import { description, fakeApi, renderPage } from '../test-support.js';
import { KeysPage } from './keys-page.js';

const laptop: SshKey = {
  id: 'k1', title: 'ada@laptop', type: 'ssh-ed25519', key: 'ssh-ed25519 AAAAC3Nza', fingerprint: 'SHA256:abcdef', createdAt: '2025-03-01T10:00:00.000Z',
};

describe('the SSH keys page', () => {
  it('lists the keys with type and fingerprint, and links to the public .keys file', async () => {
    renderPage(<KeysPage api={fakeApi({ listKeys: async () => [laptop] })} username="ada" />);

    const card = (await screen.findByRole('heading', { name: 'ada@laptop' })).closest('li')!;
    expect(within(card).getByText('ssh-ed25519')).toBeTruthy();
    expect(within(card).getByText('SHA256:abcdef')).toBeTruthy();
    expect(screen.getByRole('link', { name: '/ada.keys' }).getAttribute('href')).toBe('/ada.keys');
  });

  it('says plainly why the server refused a pasted key, under the key box', async () => {
    const twoKeys = 'That is two keys; add them one at a time.';
    const addKey = jest.fn<Api['addKey']>().mockRejectedValue(new ApiError(400, 'INVALID_KEY', twoKeys, 'key'));
    renderPage(<KeysPage api={fakeApi({ listKeys: async () => [], addKey })} username="ada" />);
    const user = userEvent.setup();
    const box = screen.getByLabelText('Public key');
    await user.click(box);
    await user.paste('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA a@x ssh-ed25519 AAAAC3NzaC1lZDI1NTE5BBBB b@x');
    await user.click(screen.getByRole('button', { name: 'Add key' }));

    await waitFor(() => expect(document.activeElement).toBe(box));
    expect(box.getAttribute('aria-invalid')).toBe('true');
    expect(description(box).startsWith(twoKeys)).toBe(true);
    expect(addKey).toHaveBeenCalledWith({ key: expect.stringContaining('a@x') });
  });

  it('refuses a pasted private key in the page, so it never reaches the server', async () => {
    const addKey = jest.fn<Api['addKey']>();
    renderPage(<KeysPage api={fakeApi({ listKeys: async () => [], addKey })} username="ada" />);
    const user = userEvent.setup();
    const box = screen.getByLabelText('Public key');
    await user.click(box);
    await user.paste('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----');
    await user.click(screen.getByRole('button', { name: 'Add key' }));

    expect(description(box).startsWith('This looks like a private key. Paste the public key: the contents of the .pub file.')).toBe(true);
    expect(document.activeElement).toBe(box);
    expect(addKey).not.toHaveBeenCalled();
  });

  it('adds a pasted key with its title and shows the new list', async () => {
    const listKeys = jest.fn<Api['listKeys']>().mockResolvedValueOnce([]).mockResolvedValue([laptop]);
    const addKey = jest.fn<Api['addKey']>().mockResolvedValue(laptop);
    renderPage(<KeysPage api={fakeApi({ listKeys, addKey })} username="ada" />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Public key'), 'ssh-ed25519 AAAAC3Nza');
    await user.type(screen.getByLabelText('Title (optional)'), 'ada@laptop');
    await user.click(screen.getByRole('button', { name: 'Add key' }));

    expect(await screen.findByRole('heading', { name: 'ada@laptop' })).toBeTruthy();
    expect(addKey).toHaveBeenCalledWith({ key: 'ssh-ed25519 AAAAC3Nza', title: 'ada@laptop' });
    expect(screen.getByRole('status').textContent).toBe('Added the key “ada@laptop”.');
    expect((screen.getByLabelText('Public key') as HTMLTextAreaElement).value).toBe('');
  });

  it('removes a key only after the confirmation', async () => {
    const removeKey = jest.fn<Api['removeKey']>().mockResolvedValue(undefined);
    renderPage(<KeysPage api={fakeApi({ listKeys: async () => [laptop], removeKey })} username="ada" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Remove' }));

    expect(removeKey).not.toHaveBeenCalled();
    const confirm = screen.getByRole('button', { name: 'Yes, remove it' });
    expect(document.activeElement).toBe(confirm);
    expect(screen.getByText('Remove the key “ada@laptop”?')).toBeTruthy();
    await user.click(confirm);

    expect(removeKey).toHaveBeenCalledWith('k1');
    await waitFor(() => expect(screen.getByRole('status').textContent).toBe('Removed the key “ada@laptop”.'));
  });

  it('keeps the key when the confirmation is cancelled', async () => {
    const removeKey = jest.fn<Api['removeKey']>();
    renderPage(<KeysPage api={fakeApi({ listKeys: async () => [laptop], removeKey })} username="ada" />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Remove' }));
    await user.click(screen.getByRole('button', { name: 'Cancel' }));

    expect(removeKey).not.toHaveBeenCalled();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Remove' }));
  });
});

import { useState } from 'react';
import type { Api } from '../api.js';
import { PageTitle } from '../components/page-title.js';
import { DeleteAccountForm } from '../forms/delete-account-form.js';
import { EmailForm } from '../forms/email-form.js';
import { PasswordForm } from '../forms/password-form.js';
import { useLoad } from '../use-load.js';

type SettingsApi = Pick<Api, 'getAccount' | 'updateAccount' | 'deleteAccount'>;

export function SettingsPage({ api, username, onDeleted }: { api: SettingsApi; username: string; onDeleted(): void }) {
  const account = useLoad(api.getAccount);
  const [status, setStatus] = useState('');

  const changeEmail = async (email: string, currentPassword: string) => {
    const changed = await api.updateAccount({ currentPassword, email });
    setStatus(`Your e-mail address is now ${changed.email}.`);
  };
  const changePassword = async (currentPassword: string, password: string) => {
    await api.updateAccount({ currentPassword, password });
    setStatus('Your password has been changed.');
  };
  const remove = async (password: string) => {
    await api.deleteAccount(password);
    onDeleted();
  };

  return (
    <>
      <PageTitle>Settings</PageTitle>
      <p className="status" role="status">{status}</p>
      {account.error && <p className="form-error" role="alert">{account.error}</p>}
      {account.data
        ? <EmailForm email={account.data.email} onChange={changeEmail} />
        : account.loading && <p>Loading…</p>}
      <PasswordForm onChange={changePassword} />
      <DeleteAccountForm username={username} onDelete={remove} />
    </>
  );
}

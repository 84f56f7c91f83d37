import { useState, type FormEvent } from 'react';
import { emptyFields } from './form-errors.js';
import { FormError, TextField } from './fields.js';
import { useForm } from './use-form.js';

const fields = ['confirmation', 'password'] as const;

/** Typing the username is the "are you sure"; the API also wants the password. */
export function DeleteAccountForm({ username, onDelete }: { username: string; onDelete(password: string): Promise<void> }) {
  const [values, setValues] = useState({ confirmation: '', password: '' });
  const { formRef, errors, busy, submit } = useForm(fields);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const precheck = emptyFields(values, { password: 'Enter your password.' });
    if (values.confirmation !== username) {
      precheck.confirmation = `Type your username, ${username}, exactly as shown, to confirm.`;
    }
    void submit(() => onDelete(values.password), precheck);
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-labelledby="delete-form-title" className="danger-zone">
      <h2 id="delete-form-title">Delete the account</h2>
      <p>This removes your account, your SSH keys and API tokens, and ends your sessions. It cannot be undone.</p>
      <FormError message={errors.form} />
      <TextField label={`Type your username, ${username}, to confirm`} value={values.confirmation}
        onChange={(confirmation) => setValues((old) => ({ ...old, confirmation }))} error={errors.fields.confirmation} autoComplete="off" />
      <TextField label="Password" type="password" value={values.password} onChange={(password) => setValues((old) => ({ ...old, password }))}
        error={errors.fields.password} autoComplete="current-password" />
      <button type="submit" className="button-danger" aria-disabled={busy || undefined}>{busy ? 'Working…' : 'Delete my account'}</button>
    </form>
  );
}

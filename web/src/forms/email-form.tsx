import { useState, type FormEvent } from 'react';
import { emptyFields } from './form-errors.js';
import { FormError, SubmitButton, TextField } from './fields.js';
import { useForm } from './use-form.js';

const fields = ['email', 'currentPassword'] as const;

/** The API asks for the current password on every account change, so an e-mail change does too. */
export function EmailForm({ email, onChange }: { email: string; onChange(email: string, currentPassword: string): Promise<void> }) {
  const [values, setValues] = useState({ email, currentPassword: '' });
  const { formRef, errors, busy, submit } = useForm(fields);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(async () => {
      await onChange(values.email.trim(), values.currentPassword);
      setValues((old) => ({ ...old, currentPassword: '' }));
    }, emptyFields(values, { email: 'Enter the new e-mail address.', currentPassword: 'Enter your current password.' }));
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-labelledby="email-form-title">
      <h2 id="email-form-title">E-mail address</h2>
      <FormError message={errors.form} />
      <TextField label="E-mail address" type="email" value={values.email} onChange={(value) => setValues((old) => ({ ...old, email: value }))}
        error={errors.fields.email} autoComplete="email" />
      <TextField label="Current password" type="password" value={values.currentPassword}
        onChange={(value) => setValues((old) => ({ ...old, currentPassword: value }))}
        error={errors.fields.currentPassword} autoComplete="current-password" />
      <SubmitButton busy={busy}>Change e-mail address</SubmitButton>
    </form>
  );
}

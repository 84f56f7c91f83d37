import { useState, type FormEvent } from 'react';
import { emptyFields } from './form-errors.js';
import { FormError, SubmitButton, TextField } from './fields.js';
import { useForm } from './use-form.js';

const fields = ['currentPassword', 'password', 'passwordConfirmation'] as const;
const empty = { currentPassword: '', password: '', passwordConfirmation: '' };

export function PasswordForm({ onChange }: { onChange(currentPassword: string, password: string): Promise<void> }) {
  const [values, setValues] = useState(empty);
  const { formRef, errors, busy, submit } = useForm(fields);
  const set = (field: keyof typeof empty) => (value: string) => setValues((old) => ({ ...old, [field]: value }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const precheck = emptyFields(values, {
      currentPassword: 'Enter your current password.',
      password: 'Choose a new password.',
      passwordConfirmation: 'Type the new password again.',
    });
    // The API takes the new password once; the typo check is the page's job.
    if (!precheck.passwordConfirmation && values.password !== values.passwordConfirmation) {
      precheck.passwordConfirmation = 'The two new passwords differ; type the same one twice.';
    }
    void submit(async () => {
      await onChange(values.currentPassword, values.password);
      setValues(empty);
    }, precheck);
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-labelledby="password-form-title">
      <h2 id="password-form-title">Password</h2>
      <FormError message={errors.form} />
      <TextField label="Current password" type="password" value={values.currentPassword} onChange={set('currentPassword')}
        error={errors.fields.currentPassword} autoComplete="current-password" />
      <TextField label="New password" type="password" value={values.password} onChange={set('password')}
        error={errors.fields.password} autoComplete="new-password" hint="At least 10 characters." />
      <TextField label="New password again" type="password" value={values.passwordConfirmation} onChange={set('passwordConfirmation')}
        error={errors.fields.passwordConfirmation} autoComplete="new-password" />
      <SubmitButton busy={busy}>Change password</SubmitButton>
    </form>
  );
}

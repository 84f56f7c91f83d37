import { useState, type FormEvent } from 'react';
import type { SignupInput } from '../api.js';
import { emptyFields } from './form-errors.js';
import { FormError, SubmitButton, TextField } from './fields.js';
import { useForm } from './use-form.js';

const fields = ['username', 'email', 'password', 'passwordConfirmation'] as const;

export function SignupForm({ onSignup }: { onSignup(input: SignupInput): Promise<void> }) {
  const [values, setValues] = useState<SignupInput>({ username: '', email: '', password: '', passwordConfirmation: '' });
  const { formRef, errors, busy, submit } = useForm(fields);
  const set = (field: keyof SignupInput) => (value: string) => setValues((old) => ({ ...old, [field]: value }));

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(() => onSignup(values), emptyFields(values, {
      username: 'Choose a username.',
      email: 'Enter your e-mail address.',
      password: 'Choose a password.',
      passwordConfirmation: 'Type the password again.',
    }));
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Sign up">
      <FormError message={errors.form} />
      <TextField label="Username" value={values.username} onChange={set('username')} error={errors.fields.username}
        autoComplete="username" hint="Lower-case letters, digits and single hyphens; your guests type it." />
      <TextField label="E-mail address" type="email" value={values.email} onChange={set('email')} error={errors.fields.email}
        autoComplete="email" />
      <TextField label="Password" type="password" value={values.password} onChange={set('password')} error={errors.fields.password}
        autoComplete="new-password" hint="At least 10 characters." />
      <TextField label="Password again" type="password" value={values.passwordConfirmation} onChange={set('passwordConfirmation')}
        error={errors.fields.passwordConfirmation} autoComplete="new-password" />
      <SubmitButton busy={busy}>Sign up</SubmitButton>
    </form>
  );
}

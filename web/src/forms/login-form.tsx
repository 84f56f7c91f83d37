import { useState, type FormEvent } from 'react';
import { emptyFields } from './form-errors.js';
import { FormError, SubmitButton, TextField } from './fields.js';
import { useForm } from './use-form.js';

const fields = ['login', 'password'] as const;

export function LoginForm({ onLogin }: { onLogin(login: string, password: string): Promise<void> }) {
  const [values, setValues] = useState({ login: '', password: '' });
  const { formRef, errors, busy, submit } = useForm(fields);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(() => onLogin(values.login.trim(), values.password), emptyFields(values, {
      login: 'Enter your username or e-mail address.',
      password: 'Enter your password.',
    }));
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Log in">
      <FormError message={errors.form} />
      <TextField label="Username or e-mail address" value={values.login} onChange={(login) => setValues((old) => ({ ...old, login }))}
        error={errors.fields.login} autoComplete="username" />
      <TextField label="Password" type="password" value={values.password} onChange={(password) => setValues((old) => ({ ...old, password }))}
        error={errors.fields.password} autoComplete="current-password" />
      <SubmitButton busy={busy}>Log in</SubmitButton>
    </form>
  );
}

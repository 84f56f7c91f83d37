import { useState, type FormEvent } from 'react';
import { emptyFields } from './form-errors.js';
import { FormError, SubmitButton, TextField } from './fields.js';
import { useForm } from './use-form.js';

const fields = ['name'] as const;

export function CreateTokenForm({ onCreate }: { onCreate(name: string): Promise<void> }) {
  const [name, setName] = useState('');
  const { formRef, errors, busy, submit } = useForm(fields);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(async () => {
      await onCreate(name.trim());
      setName('');
    }, emptyFields({ name }, { name: 'Name the token, e.g. after the machine that will use it.' }));
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Create an API token">
      <FormError message={errors.form} />
      <TextField label="Token name" value={name} onChange={setName} error={errors.fields.name} hint="Such as work-laptop or ci." />
      <SubmitButton busy={busy}>Create token</SubmitButton>
    </form>
  );
}

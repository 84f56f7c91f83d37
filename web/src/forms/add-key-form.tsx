import { useState, type FormEvent } from 'react';
import { emptyFields } from './form-errors.js';
import { FormError, SubmitButton, TextField } from './fields.js';
import { looksLikePrivateKey, privateKeyMessage } from './private-key.js';
import { useForm } from './use-form.js';

const fields = ['key', 'title'] as const;

/** Pasting a public key; the server's verdict on it (private key, two keys, short RSA…) shows under the box. */
export function AddKeyForm({ onAdd }: { onAdd(input: { title?: string; key: string }): Promise<void> }) {
  const [values, setValues] = useState({ key: '', title: '' });
  const { formRef, errors, busy, submit } = useForm(fields);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const title = values.title.trim();
    const precheck = emptyFields(values, { key: 'Paste your public key: the contents of the .pub file.' });
    if (looksLikePrivateKey(values.key)) precheck.key = privateKeyMessage;
    void submit(async () => {
      await onAdd({ key: values.key, ...(title ? { title } : {}) });
      setValues({ key: '', title: '' });
    }, precheck);
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="Add an SSH key">
      <FormError message={errors.form} />
      <TextField label="Public key" rows={4} value={values.key} onChange={(key) => setValues((old) => ({ ...old, key }))}
        error={errors.fields.key}
        hint={<>The one line in <code>~/.ssh/id_ed25519.pub</code> (or another <code>.pub</code> file), starting with its type.</>} />
      <TextField label="Title (optional)" value={values.title} onChange={(title) => setValues((old) => ({ ...old, title }))}
        error={errors.fields.title} hint="Defaults to the key's comment, such as you@laptop." />
      <SubmitButton busy={busy}>Add key</SubmitButton>
    </form>
  );
}

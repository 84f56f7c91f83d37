import { useId, type ReactNode } from 'react';

interface TextFieldProps {
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  hint?: ReactNode;
  type?: 'text' | 'email' | 'password';
  autoComplete?: string;
  /** A textarea, for pasted keys. */
  rows?: number;
}

/** A labelled input whose hint and error are tied to it with aria-describedby. */
export function TextField({ label, value, onChange, error, hint, type = 'text', autoComplete, rows }: TextFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    value,
    autoComplete,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
  };
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {hint && <p className="field-hint" id={hintId}>{hint}</p>}
      {rows
        ? <textarea {...common} rows={rows} spellCheck={false} onChange={(event) => onChange(event.target.value)} />
        : <input {...common} type={type} spellCheck={type === 'text' ? false : undefined} onChange={(event) => onChange(event.target.value)} />}
      {error && <p className="field-error" id={errorId}>{error}</p>}
    </div>
  );
}

/** An error about the whole form; focusable so a failed submit can move there. */
export function FormError({ message }: { message?: string }) {
  if (!message) return null;
  return <p className="form-error" role="alert" tabIndex={-1}>{message}</p>;
}

export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  // aria-disabled rather than disabled keeps the button in the tab order while a request runs.
  return <button type="submit" className="button-primary" aria-disabled={busy || undefined}>{busy ? 'Working…' : children}</button>;
}

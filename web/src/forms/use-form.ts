import { useCallback, useEffect, useRef, useState } from 'react';
import { formErrorsFrom, hasErrors, type FieldErrors, type FormErrors } from './form-errors.js';

/**
 * A form's errors and busy state. After a failed submit the first error gets the
 * focus, so keyboard and screen-reader users land on what needs fixing.
 */
export function useForm<F extends string>(fields: readonly F[]) {
  const formRef = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FormErrors<F>>({ fields: {} });
  const [busy, setBusy] = useState(false);
  const [failures, setFailures] = useState(0);
  // The submit button stays focusable while busy, so a second press must be ignored here.
  const running = useRef(false);

  useEffect(() => {
    if (failures === 0) return;
    formRef.current?.querySelector<HTMLElement>('.form-error, [aria-invalid="true"]')?.focus();
  }, [failures]);

  const fail = useCallback((next: FormErrors<F>) => {
    setErrors(next);
    setFailures((count) => count + 1);
  }, []);

  /** Runs `action` unless `precheck` found errors; an ApiError it throws is shown beside its field. */
  const submit = useCallback(async (action: () => Promise<void>, precheck: FieldErrors<F> = {}) => {
    if (running.current) return;
    if (hasErrors({ fields: precheck })) return fail({ fields: precheck });
    setErrors({ fields: {} });
    running.current = true;
    setBusy(true);
    try {
      await action();
    } catch (error) {
      fail(formErrorsFrom(error, fields));
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, [fail, fields]);

  return { formRef, errors, busy, submit, fail };
}

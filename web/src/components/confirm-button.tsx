import { useEffect, useRef, useState } from 'react';

interface ConfirmButtonProps {
  /** The first button's words, e.g. "Remove". */
  label: string;
  /** What the second step asks, naming the thing, e.g. `Remove the key "laptop"?`. */
  question: string;
  confirmLabel: string;
  onConfirm(): Promise<void>;
}

/** A destructive action in two steps, in place, without a modal. */
export function ConfirmButton({ label, question, confirmLabel, onConfirm }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const cancelled = useRef(false);

  // Focus follows the step, so a keyboard user is never left on a button that vanished.
  // After a confirmed action the caller decides, since the thing (and this button) may be gone.
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (cancelled.current) openRef.current?.focus();
    cancelled.current = false;
  }, [asking]);

  if (!asking) {
    return <button type="button" ref={openRef} className="button-small button-danger" onClick={() => setAsking(true)}>{label}</button>;
  }
  const confirm = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="confirm-question">{question}</span>
      <button type="button" ref={confirmRef} className="button-small button-danger" aria-disabled={busy || undefined} onClick={confirm}>
        {confirmLabel}
      </button>
      <button type="button" className="button-small" onClick={() => { cancelled.current = true; setAsking(false); }}>Cancel</button>
    </span>
  );
}

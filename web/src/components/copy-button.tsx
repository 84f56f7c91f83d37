import { useEffect, useState } from 'react';

/**
 * The Clipboard API exists only in secure contexts, and a closed-network install may
 * be served over plain http; there the old copy command on a selected textarea still works.
 */
async function copyText(text: string): Promise<boolean> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied by the browser: fall through to the old way.
    }
  }
  const buffer = document.createElement('textarea');
  buffer.value = text;
  buffer.setAttribute('readonly', '');
  buffer.className = 'copy-buffer';
  document.body.append(buffer);
  buffer.select();
  try {
    return document.execCommand?.('copy') ?? false;
  } finally {
    buffer.remove();
  }
}

/**
 * Copies `text` and says so in a live region, for screen readers as much as for eyes.
 * `what` names the thing for assistive technology, since a page may hold several "Copy" buttons.
 */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [status, setStatus] = useState('');
  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(() => setStatus(''), 4000);
    return () => clearTimeout(timer);
  }, [status]);
  const copy = async () => setStatus(await copyText(text) ? 'Copied.' : 'Copying failed; select the text and copy it yourself.');
  return (
    <span className="copy">
      <button type="button" className="button-small" aria-label={`Copy ${what}`} onClick={copy}>Copy</button>
      <span className="copy-status" role="status">{status}</span>
    </span>
  );
}

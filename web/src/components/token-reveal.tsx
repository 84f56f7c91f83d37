import { useEffect, useRef } from 'react';
import { CodeBlock } from './code-block.js';

/** A fresh API token's secret: the server never shows it again, so neither does the page once dismissed. */
export function TokenReveal({ name, token, onDone }: { name: string; token: string; onDone?(): void }) {
  const title = useRef<HTMLHeadingElement>(null);
  // It appears where the form was submitted from; focus follows so screen readers announce it at once.
  useEffect(() => title.current?.focus(), [token]);
  return (
    <section className="reveal" aria-labelledby="token-reveal-title">
      <h2 id="token-reveal-title" ref={title} tabIndex={-1}>Your new API token “{name}”</h2>
      <p>
        Copy it now: this is the only time it is shown. Log the CLI in with <code>tmuxme login --token</code> and
        this token, or set it as <code>TMUXME_TOKEN</code>.
      </p>
      <CodeBlock code={token} what={`the API token ${name}`} />
      {onDone && <button type="button" className="button-small" onClick={onDone}>I have copied it</button>}
    </section>
  );
}

import { CopyButton } from './copy-button.js';

/** A command or secret to paste elsewhere, with its copy button. */
export function CodeBlock({ code, what }: { code: string; what: string }) {
  return (
    <div className="code-block">
      <pre><code>{code}</code></pre>
      <CopyButton text={code} what={what} />
    </div>
  );
}

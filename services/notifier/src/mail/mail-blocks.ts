import { html, type SafeHtml } from './html.js';

export type Inline = string | { link: string };
/** A mail's content once, rendered both as plain text and as HTML. */
export type Block =
  | { kind: 'paragraph'; parts: Inline[] }
  | { kind: 'command'; command: string }
  | { kind: 'steps'; steps: Inline[][] };

export const paragraph = (...parts: Inline[]): Block => ({ kind: 'paragraph', parts });
export const command = (line: string): Block => ({ kind: 'command', command: line });

/** What the mailer needs besides the recipient. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const inlineText = (parts: Inline[]) => parts.map((part) => (typeof part === 'string' ? part : part.link)).join('');

function asText(block: Block): string {
  switch (block.kind) {
    case 'paragraph': return inlineText(block.parts);
    case 'command': return `    ${block.command}`;
    case 'steps': return block.steps.map((step, i) => `  ${i + 1}. ${inlineText(step)}`).join('\n');
  }
}

const inlineHtml = (parts: Inline[]) => parts.map((part) => (typeof part === 'string' ? part : html`<a href="${part.link}">${part.link}</a>`));

function asHtml(block: Block): SafeHtml {
  switch (block.kind) {
    case 'paragraph': return html`<p>${inlineHtml(block.parts)}</p>`;
    case 'command': return html`<pre style="background:#f3f4f6;padding:8px 12px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere"><code>${block.command}</code></pre>`;
    case 'steps': return html`<ol>${block.steps.map((step) => html`<li>${inlineHtml(step)}</li>`)}</ol>`;
  }
}

/** The mail with this subject and content, as plain text and as HTML. */
export function renderMail(subject: string, content: Block[]): MailContent {
  return {
    // A header is one line: a control character in a username must not start another.
    subject: subject.replace(/\p{Cc}/gu, ' '),
    text: `${content.map(asText).join('\n\n')}\n`,
    html: html`<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">${content.map(asHtml)}</body></html>`.markup,
  };
}

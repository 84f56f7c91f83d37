import type { EventData, SessionDeclared } from '@tmuxme/events';
import { html, type SafeHtml } from './html.js';

export type DeclaredSession = EventData<typeof SessionDeclared>;
export type Guest = DeclaredSession['guests'][number];

type Inline = string | { link: string };
/** The mail's content once, rendered both as plain text and as HTML. */
type Block =
  | { kind: 'paragraph'; parts: Inline[] }
  | { kind: 'command'; command: string }
  | { kind: 'steps'; steps: Inline[][] };

const paragraph = (...parts: Inline[]): Block => ({ kind: 'paragraph', parts });
const command = (line: string): Block => ({ kind: 'command', command: line });

/** A command, the fingerprint to check the host by, and the variant that checks it for the guest. */
function commandAndPin(plain: string, pinned: string | undefined, fingerprint: string | undefined, pinnedIntro: string): Block[] {
  return [
    command(plain),
    ...(fingerprint ? [paragraph(`The host's SSH key fingerprint is ${fingerprint}; ssh shows it the first time you connect, and it must match.`)] : []),
    ...(pinned ? [paragraph(pinnedIntro), command(pinned)] : []),
  ];
}

/** The seed's direct commands first; the jump path after them, or alone where the port answers on the relay only. */
function joinBlocks(session: DeclaredSession): Block[] {
  const { host: { username: host }, hostKeyFingerprint: fingerprint, tunnelPort } = session;
  if (session.private) {
    return [
      paragraph(`${host} made this session private: its port is reachable only through the relay's SSH port (${tunnelPort}), `
        + `and only for the guests ${host} invited. Join from a terminal with:`),
      ...commandAndPin(session.jumpJoinCommand, session.pinnedJumpJoinCommand, fingerprint,
        "Or let ssh check the relay's and the host's keys for you, and refuse any others, with:"),
    ];
  }
  return [
    paragraph('Join from a terminal with:'),
    ...commandAndPin(session.joinCommand, session.pinnedJoinCommand, fingerprint, 'Or let ssh check the key for you, and refuse any other, with:'),
    paragraph(`If your network lets only SSH's port out, join through the relay's SSH port (${tunnelPort}) instead:`),
    command(session.pinnedJumpJoinCommand ?? session.jumpJoinCommand),
  ];
}

function blocks(session: DeclaredSession, guest: Guest, publicUrl: string): Block[] {
  const host = session.host.username;
  return [
    paragraph(`Hi ${guest.username},`),
    paragraph(`${host} invited you to pair in their tmux session on tmux.me.`),
    paragraph(guest.access === 'ro'
      ? 'You are invited read-only: you can watch but not type.'
      : 'You can type as well as watch: the session is shared read-write.'),
    ...joinBlocks(session),
    paragraph('New to tmux.me? Get set up once:'),
    { kind: 'steps', steps: [
      ['Sign up (or log in) at ', { link: publicUrl }, '.'],
      ['Add your SSH public key there, the same key your ssh uses (for example the contents of ~/.ssh/id_ed25519.pub): it is how the host lets you in.'],
      ['Run the command above.'],
    ] },
    paragraph(`If you do not know ${host}, ignore this mail: no one can join as you without your SSH key.`),
  ];
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

/** One guest's invitation: who invited them, how they may take part, the command, and how to get set up. */
export function invitationMail(session: DeclaredSession, guest: Guest, publicUrl: string) {
  const content = blocks(session, guest, publicUrl);
  const subject = `${session.host.username} invited you to pair on tmux.me`;
  return {
    // A header is one line: a control character in a username must not start another.
    subject: subject.replace(/\p{Cc}/gu, ' '),
    text: `${content.map(asText).join('\n\n')}\n`,
    html: html`<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">${content.map(asHtml)}</body></html>`.markup,
  };
}

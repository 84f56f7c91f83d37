/**
 * The local mail catcher for `npm run up`: every mail the services send lands here instead of in a
 * real mailbox. SMTP on 127.0.0.1:1025 (the notifier's default SMTP_URL) and a page listing the mails
 * on http://127.0.0.1:8025, with the same list as JSON at /api/messages.
 *
 *   npx tsx infra/dev/mail-catcher.ts
 */
import { createServer } from 'node:http';
import { MailCatcher, type CaughtMail } from '@tmuxme/testing';

const smtpPort = 1025;
const httpPort = 8025;

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => entities[c]!);

const newestFirst = (mails: CaughtMail[]) => [...mails].reverse();

function mailHtml(mail: CaughtMail): string {
  // The HTML part is shown in a sandboxed frame: it renders, but none of its scripts or forms run.
  const frame = `<iframe sandbox="" srcdoc="${escape(mail.html)}" style="width:100%;height:28rem;border:1px solid #ccc"></iframe>`;
  const htmlPart = mail.html ? `<details><summary>HTML part</summary>${frame}</details>` : '';
  return `<article style="border-bottom:1px solid #ddd;padding:1rem 0">
<h2 style="margin:0;font-size:1.1rem">${escape(mail.subject || '(no subject)')}</h2>
<p style="margin:.25rem 0;color:#555">${escape(mail.receivedAt.toISOString())} · from ${escape(mail.from)} · to ${escape(mail.envelope.to.join(', '))}${mail.replyTo ? ` · reply to ${escape(mail.replyTo)}` : ''}</p>
<pre style="white-space:pre-wrap;background:#f6f6f6;padding:.75rem">${escape(mail.text)}</pre>
${htmlPart}
</article>`;
}

function page(mails: CaughtMail[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>tmux.me mail catcher (${mails.length})</title></head>
<body style="font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem">
<h1 style="font-size:1.4rem">Mail caught on smtp://127.0.0.1:${smtpPort} (${mails.length}, newest first)</h1>
${mails.length === 0 ? '<p>No mail yet. This page reloads every 5 seconds.</p>' : newestFirst(mails).map(mailHtml).join('\n')}
</body></html>`;
}

const catcher = await MailCatcher.start(smtpPort);
const web = createServer((request, response) => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET') {
    response.writeHead(405, { allow: 'GET' }).end();
  } else if (path === '/api/messages') {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(newestFirst(catcher.messages)));
  } else if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'" })
      .end(page(catcher.messages));
  } else {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  }
});
await new Promise<void>((resolve) => web.listen(httpPort, '127.0.0.1', resolve));
console.log(`mail catcher: SMTP on ${catcher.url}, mails on http://127.0.0.1:${httpPort}`);

async function stop() {
  web.close();
  await catcher.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

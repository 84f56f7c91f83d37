import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect, freePort } from './net.js';

/** Mailpit, the mail catcher compose runs, as infra/mailpit/build.sh builds it. */
export const mailpitBinary = process.env.MAILPIT_BIN
  ?? resolve(fileURLToPath(import.meta.url), '../../../../infra/mailpit/bin/mailpit');

/** One message as Mailpit accepted it, read back through its API. */
export interface CaughtMail {
  /**
   * Who the SMTP transaction named. Mailpit keeps MAIL FROM as Return-Path, and puts every RCPT TO that the
   * To and Cc headers leave out into Bcc; so `to` is To, Cc and Bcc together: a recipient the headers did not
   * name still shows up here (it cannot hide), though a header address that got no RCPT TO would too.
   */
  envelope: { from: string; to: string[] };
  /** The From header as on the wire, e.g. `"tmux.me" <invite@tmux.me>`. */
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  /** The parts as sent, with line ends as a mail client shows them (\n). */
  text: string;
  html: string;
  /** With its angle brackets, as in the header. */
  messageId?: string;
  receivedAt: Date;
  /** Every header, as Mailpit stored it, by name (Mailpit's capitalisation, e.g. `Message-Id`). */
  headers: Record<string, string[]>;
}

interface Address { Name: string; Address: string }
interface Summary { ID: string; Created: string }
interface Message {
  ID: string;
  MessageID: string;
  ReturnPath: string;
  To: Address[] | null;
  Cc: Address[] | null;
  Bcc: Address[] | null;
  Subject: string;
  Text: string;
  HTML: string;
}

const lf = (text: string) => text.replace(/\r\n/g, '\n');
const addresses = (...lists: (Address[] | null)[]) => lists.flatMap((list) => (list ?? []).map((mailbox) => mailbox.Address));

/** Catchers still running, so a test process that exits without stopping one leaves no Mailpit behind. */
const running = new Set<MailCatcher>();
process.once('exit', () => {
  for (const catcher of running) catcher.kill();
});

/**
 * A Mailpit process of its own on loopback (free SMTP and HTTP ports, its own database in a temporary
 * folder that stop() removes), so tests read back the mail a service sent, through Mailpit's API, from
 * the same mail catcher compose runs. `refuse(true)` makes it answer like a relay in trouble.
 */
export class MailCatcher {
  /** Messages already read, by Mailpit's ID: a stored message never changes. */
  private readonly read = new Map<string, CaughtMail>();
  private stopped?: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly folder: string,
    readonly smtpPort: number,
    readonly httpPort: number,
  ) {}

  /** Listens on 127.0.0.1; port 0 (the default) picks a free one. */
  static async start(smtpPort = 0, httpPort = 0): Promise<MailCatcher> {
    if (!existsSync(mailpitBinary)) {
      throw new Error(`Mailpit is not built (${mailpitBinary} is missing): run \`bash infra/dev/ensure.sh\` (or \`npm test\`, which runs it)`);
    }
    // A free port can be taken between our look and Mailpit's bind: then try again on others.
    for (let attempt = 1; ; attempt++) {
      try {
        return await MailCatcher.launch(smtpPort || await freePort(), httpPort || await freePort());
      } catch (error) {
        if (attempt >= 3 || (smtpPort && httpPort) || !/address already in use/i.test((error as Error).message)) throw error;
      }
    }
  }

  private static async launch(smtpPort: number, httpPort: number): Promise<MailCatcher> {
    const folder = await mkdtemp(join(tmpdir(), 'tmuxme-mailpit-'));
    const args = [
      '--smtp', `127.0.0.1:${smtpPort}`, '--listen', `127.0.0.1:${httpPort}`,
      '--database', join(folder, 'mailpit.db'),
      // Keep every mail (the default prunes past 500), and the same Message-ID twice (tests count repeats).
      '--max', '0',
      // Nothing leaves the machine: no look-up of the latest release, no reverse DNS of each client.
      '--disable-version-check', '--smtp-disable-rdns',
      // refuse() sets Mailpit's SMTP failures through its API.
      '--enable-chaos',
      '--quiet',
    ];
    // Mailpit also reads MP_* settings from the environment: none of the caller's apply to the tests' catcher.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MP_')));
    const child = spawn(mailpitBinary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-4000); });
    const catcher = new MailCatcher(child, folder, smtpPort, httpPort);
    running.add(catcher);
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`Mailpit exited (${signal ?? code}) before it was ready:\n${output}`)));
    });
    try {
      await Promise.race([exited, catcher.ready(15_000)]);
    } catch (error) {
      await catcher.stop();
      throw error;
    }
    return catcher;
  }

  /** Where a service sends its mail. */
  get url(): string {
    return `smtp://127.0.0.1:${this.smtpPort}`;
  }

  /** Mailpit's page and API. */
  get webUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** While on, every recipient is answered with 451 (try again later), as a relay in trouble does. */
  async refuse(on: boolean): Promise<void> {
    await this.api('/api/v1/chaos', { method: 'PUT', body: JSON.stringify({ Recipient: { ErrorCode: 451, Probability: on ? 100 : 0 } }) });
  }

  /** Deletes every message caught so far. */
  async clear(): Promise<void> {
    await this.api('/api/v1/messages', { method: 'DELETE' });
    this.read.clear();
  }

  /** How many messages Mailpit holds. */
  async count(): Promise<number> {
    return ((await this.api('/api/v1/messages?limit=1')) as { total: number }).total;
  }

  /** Every message Mailpit holds, oldest first. */
  async messages(): Promise<CaughtMail[]> {
    const summaries = new Map<string, Summary>();
    // Newest first, a page at a time: a message that arrives meanwhile only shifts older ones into the next page.
    for (let start = 0; ;) {
      const page = (await this.api(`/api/v1/messages?start=${start}&limit=1000`)) as { total: number; messages: Summary[] };
      for (const summary of page.messages) summaries.set(summary.ID, summary);
      start += page.messages.length;
      if (page.messages.length === 0 || start >= page.total) break;
    }
    const oldestFirst = [...summaries.values()].reverse().sort((a, b) => Date.parse(a.Created) - Date.parse(b.Created));
    const unread = oldestFirst.filter((summary) => !this.read.has(summary.ID));
    for (let i = 0; i < unread.length; i += 16) {
      await Promise.all(unread.slice(i, i + 16).map(async (summary) => this.read.set(summary.ID, await this.readOne(summary))));
    }
    return oldestFirst.map((summary) => this.read.get(summary.ID)!);
  }

  /** Resolves with the messages once at least `count` have arrived. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<CaughtMail[]> {
    await this.waitForCount(count, timeoutMs);
    return this.messages();
  }

  /** Resolves once at least `count` messages have arrived, without reading them (what a benchmark times). */
  async waitForCount(count: number, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const caught = await this.count();
      if (caught >= count) return caught;
      if (Date.now() > deadline) throw new Error(`expected ${count} mail(s) within ${timeoutMs} ms, got ${caught}`);
      await new Promise((done) => setTimeout(done, 25));
    }
  }

  /** Stops Mailpit and removes its data. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        const exited = new Promise((done) => this.child.once('exit', done));
        this.child.kill('SIGTERM');
        const late = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(late);
      }
      running.delete(this);
      rmSync(this.folder, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  /** At the test process's exit, when stop() was never called: synchronous, so it runs there. */
  kill(): void {
    this.child.kill('SIGKILL');
    rmSync(this.folder, { recursive: true, force: true });
  }

  private async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const answered = await fetch(`${this.webUrl}/readyz`).then((response) => response.ok, () => false);
      if (answered && await canConnect(this.smtpPort)) return;
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error(`Mailpit did not answer on ${this.webUrl}/readyz and ${this.url} within ${timeoutMs} ms`);
  }

  private async readOne(summary: Summary): Promise<CaughtMail> {
    const [message, headers] = await Promise.all([
      this.api(`/api/v1/message/${summary.ID}`) as Promise<Message>,
      this.api(`/api/v1/message/${summary.ID}/headers`) as Promise<Record<string, string[]>>,
    ]);
    const replyTo = headers['Reply-To']?.[0];
    return {
      envelope: { from: message.ReturnPath, to: [...new Set(addresses(message.To, message.Cc, message.Bcc))] },
      from: headers.From?.[0] ?? '',
      to: addresses(message.To),
      ...(replyTo ? { replyTo } : {}),
      subject: message.Subject,
      text: lf(message.Text),
      html: lf(message.HTML),
      ...(message.MessageID ? { messageId: `<${message.MessageID}>` } : {}),
      receivedAt: new Date(summary.Created),
      headers,
    };
  }

  private async api(path: string, init: RequestInit = {}): Promise<unknown> {
    const response = await fetch(this.webUrl + path, { ...init, headers: { 'content-type': 'application/json' } });
    const body = await response.text();
    if (!response.ok) throw new Error(`Mailpit answered ${init.method ?? 'GET'} ${path} with ${response.status}: ${body}`);
    // DELETE answers a plain "ok".
    return response.headers.get('content-type')?.includes('json') ? JSON.parse(body) : body;
  }
}

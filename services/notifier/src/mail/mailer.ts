import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';

export interface MailerOptions {
  smtpUrl: string;
  from: string;
  replyTo?: string;
  maxConnections: number;
  maxMessages: number;
}

export interface OutgoingMail {
  /** Stable for one event and recipient, so a resend after a crash carries the same Message-ID. */
  key: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

function pooledTransport({ smtpUrl, from, replyTo, maxConnections, maxMessages }: MailerOptions) {
  return createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections,
    maxMessages,
    // These bound a send, which must end well inside a mail claim's lease (see domain/mail-ledger.ts).
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
    // A failed send goes back to the broker, which retries with a growing delay; the pool must not resend by itself.
    maxRequeues: 0,
  }, { from, ...(replyTo ? { replyTo } : {}), headers: { 'Auto-Submitted': 'auto-generated' } });
}

/** Sends over a pool of SMTP connections to the configured relay. */
export class Mailer {
  private readonly transport: ReturnType<typeof pooledTransport>;
  private readonly messageIdDomain: string;

  constructor(options: MailerOptions) {
    this.transport = pooledTransport(options);
    this.messageIdDomain = /@([^\s@<>]+)>?\s*$/.exec(options.from)?.[1] ?? 'tmux.me';
  }

  /** Resolves with the Message-ID once the SMTP server accepted the mail; rejects if it did not. */
  async send({ key, ...mail }: OutgoingMail): Promise<string> {
    const messageId = `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${this.messageIdDomain}>`;
    await this.transport.sendMail({ ...mail, messageId });
    return messageId;
  }

  close(): void {
    this.transport.close();
  }
}

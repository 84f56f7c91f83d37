import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/** One message as the SMTP server accepted it, parsed back the way a mail client would show it. */
export interface CaughtMail {
  /** Who the SMTP transaction named, which is who the mail was really delivered to. */
  envelope: { from: string; to: string[] };
  /** The From header as on the wire, e.g. `"tmux.me" <invite@tmux.me>`. */
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  text: string;
  html: string;
  messageId?: string;
  receivedAt: Date;
}

const addresses = (header: AddressObject | AddressObject[] | undefined): string[] =>
  [header ?? []].flat().flatMap((group) => group.value.map((mailbox) => mailbox.address ?? ''));

/** Only the parts as sent: the views mailparser derives (text from HTML, HTML from text) cost CPU that benchmarks would count. */
const parseOptions = { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true };

const envelopeAddress = (address: SMTPServerAddress | false): string => (address ? address.address : '');

/** What a busy or broken relay answers: a 4xx, so a well-behaved client tries again later. */
function temporaryFailure(): Error {
  return Object.assign(new Error('Mail service is refusing mail for now; try again later'), { responseCode: 451 });
}

/**
 * A real SMTP server on loopback that keeps what it receives, so tests (and `npm run up`) can read
 * back the mail a service sent. `refuse(true)` makes it answer like a relay in trouble.
 */
export class MailCatcher {
  readonly messages: CaughtMail[] = [];
  private refusing = false;
  private port = 0;
  private readonly arrived = new Set<() => void>();
  private readonly server: SMTPServer;

  private constructor() {
    this.server = new SMTPServer({
      // Plain SMTP on loopback: STARTTLS with the package's published test certificate would protect nothing.
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      size: 10 * 1024 * 1024,
      closeTimeout: 200,
      onRcptTo: (_address, _session, callback) => callback(this.refusing ? temporaryFailure() : null),
      onData: (stream, session, callback) => {
        simpleParser(stream, parseOptions).then((mail) => {
          // Refusing may have begun while the client was still sending the body.
          if (this.refusing) return callback(temporaryFailure());
          this.keep({
            envelope: { from: envelopeAddress(session.envelope.mailFrom), to: session.envelope.rcptTo.map(envelopeAddress) },
            from: mail.from?.text ?? '',
            to: addresses(mail.to),
            ...(mail.replyTo ? { replyTo: mail.replyTo.text } : {}),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: mail.html || '',
            ...(mail.messageId ? { messageId: mail.messageId } : {}),
            receivedAt: new Date(),
          });
          callback();
        }, (error: Error) => callback(error));
      },
    });
    // A client that drops mid-session is its own problem, never a reason to stop catching mail.
    this.server.on('error', () => {});
  }

  /** Listens on 127.0.0.1; port 0 picks a free one. */
  static async start(port = 0): Promise<MailCatcher> {
    const catcher = new MailCatcher();
    await new Promise<void>((resolve, reject) => {
      catcher.server.server.once('error', reject);
      catcher.server.listen(port, '127.0.0.1', () => {
        catcher.server.server.off('error', reject);
        resolve();
      });
    });
    const address = catcher.server.server.address();
    catcher.port = typeof address === 'object' && address ? address.port : port;
    return catcher;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** While on, every recipient and every message body is answered with 451 (try again later). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  clear(): void {
    this.messages.length = 0;
  }

  /** Resolves with the messages once at least `count` have arrived. */
  waitFor(count: number, timeoutMs = 10_000): Promise<CaughtMail[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.messages.length < count) return;
        done();
        resolve(this.messages);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`expected ${count} mail(s) within ${timeoutMs} ms, got ${this.messages.length}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.arrived.delete(check);
      };
      this.arrived.add(check);
      check();
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private keep(mail: CaughtMail): void {
    this.messages.push(mail);
    for (const check of [...this.arrived]) check();
  }
}

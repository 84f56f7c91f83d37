import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Coalescer } from './coalescer.js';

export interface WriterLogger {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface AuthorizedKeysWriterOptions {
  file: string;
  /** The group sshd reads the file as (the tunnel user's), by name; looked up once, on the first write. */
  group: string;
  /** Called at the start of every write, so each write carries the state as it is then. */
  render: () => string;
  logger?: WriterLogger;
  /** After a failed write, when to try again if nothing asked sooner. */
  retryDelayMs?: number;
}

export type WriteOutcome = 'written' | 'unchanged';

const silent: WriterLogger = { info: () => {}, error: () => {} };

/**
 * Owns one authorized_keys file. sshd re-reads it on every login, so a reader must only ever see a
 * whole file with the right owner and mode (StrictModes ignores any other): each write goes to a temp
 * file in the same directory that is fsynced, chowned and chmodded before the rename, and the directory
 * is fsynced after it. Requests coalesce without a debounce delay: see Coalescer.
 */
export class AuthorizedKeysWriter {
  private readonly coalescer = new Coalescer(() => this.pass());
  private readonly logger: WriterLogger;
  private gid: number | undefined;
  private written: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastFailed = false;
  private replaced = 0;

  constructor(private readonly options: AuthorizedKeysWriterOptions) {
    this.logger = options.logger ?? silent;
  }

  /** Resolves once a write that started after this call is done (or found nothing changed). */
  request(): Promise<WriteOutcome> {
    return this.coalescer.run();
  }

  /** Files written so far. */
  get writes(): number {
    return this.replaced;
  }

  /** False after a failed write, until one succeeds. */
  get healthy(): boolean {
    return !this.lastFailed;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.coalescer.idle();
  }

  private async pass(): Promise<WriteOutcome> {
    clearTimeout(this.retryTimer);
    const content = this.options.render();
    if (content === this.written) return 'unchanged';
    try {
      await this.replace(content);
    } catch (error) {
      // One line per outage: the retries would repeat it every second.
      if (!this.lastFailed) this.logger.error({ err: error, file: this.options.file }, 'could not write authorized_keys; retrying');
      this.lastFailed = true;
      if (!this.closed) this.retryTimer = setTimeout(() => void this.request().catch(() => {}), this.options.retryDelayMs ?? 1000);
      throw error;
    }
    if (this.lastFailed) this.logger.info({ file: this.options.file }, 'authorized_keys written again');
    this.lastFailed = false;
    this.written = content;
    this.replaced += 1;
    return 'written';
  }

  private async replace(content: string): Promise<void> {
    const { file } = this.options;
    const dir = dirname(file);
    if (this.gid === undefined) {
      this.gid = await groupId(this.options.group);
      await removeLeftovers(file);
    }
    const temp = join(dir, `${tempPrefix(file)}${randomBytes(6).toString('hex')}`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
      await handle.chown(0, this.gid);
      await handle.chmod(0o640);
      await handle.close();
      await rename(temp, file);
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temp, { force: true });
      throw error;
    }
    const directory = await open(dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

const tempPrefix = (file: string) => `.${basename(file)}.tmp-`;

/** Temp files of a process that died mid-write; nothing else writes this directory's temp names. */
async function removeLeftovers(file: string): Promise<void> {
  const prefix = tempPrefix(file);
  for (const name of await readdir(dirname(file))) {
    if (name.startsWith(prefix)) await rm(join(dirname(file), name), { force: true });
  }
}

/** getent asks NSS, as sshd does, so a group from LDAP or sssd resolves too. */
async function groupId(group: string): Promise<number> {
  const { stdout } = await promisify(execFile)('getent', ['group', group]).catch(() => {
    throw new Error(`there is no group "${group}" for authorized_keys (create it, or set TUNNEL_GROUP)`);
  });
  const gid = Number(stdout.split(':')[2]);
  if (!Number.isInteger(gid)) throw new Error(`getent printed no gid for group "${group}"`);
  return gid;
}

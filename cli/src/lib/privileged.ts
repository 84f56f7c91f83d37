import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Called once before anything is run through sudo, so the UI can say why a
 * password prompt (or an admin's log line) is about to appear.
 */
export type ExplainPrivilege = (reason: string) => void | Promise<void>;

export interface RunAsRootOptions {
  /** Why root is needed, in words for the person at the keyboard. */
  reason: string;
  explain: ExplainPrivilege;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Runs `command` as root: directly when we are root, else through `sudo -n`
 * (no prompt: cached credentials or NOPASSWD), else through plain `sudo`,
 * which asks for the password on the terminal itself (/dev/tty, not our
 * pipes), so only stdin is shared with it.
 */
export async function runAsRoot(command: readonly [string, ...string[]], { reason, explain }: RunAsRootOptions): Promise<void> {
  if (isRoot()) {
    await runQuietly(command[0], command.slice(1));
    return;
  }
  await explain(reason);
  // Probing with `true` first tells "sudo wants a password" apart from "the
  // command failed", without parsing sudo's (translated) messages.
  const passwordless = await runQuietly('sudo', ['-n', 'true']).then(() => true, (error: unknown) => {
    if (isMissingProgram(error)) throw new Error(`${reason}: this needs root, and sudo is not installed. Run as root: ${command.join(' ')}`);
    return false;
  });
  if (passwordless) {
    await runQuietly('sudo', ['-n', '--', ...command]);
    return;
  }
  await runWithTerminal('sudo', ['--', ...command]);
}

async function runQuietly(program: string, args: string[]): Promise<void> {
  try {
    await run(program, args, { timeout: 60_000 });
  } catch (error) {
    if (isMissingProgram(error)) throw error;
    throw commandFailed(program, args, error as { stderr?: string; message: string });
  }
}

function runWithTerminal(program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['inherit', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(commandFailed(program, args, { stderr, message: `exit ${code ?? signal}` }));
    });
  });
}

function commandFailed(program: string, args: string[], { stderr, message }: { stderr?: string; message: string }): Error {
  return new Error(`\`${[program, ...args].join(' ')}\` failed: ${stderr?.trim() || message}`);
}

function isMissingProgram(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

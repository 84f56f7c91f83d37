import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { guestAttachCommand, guestFromArgv, processArgv } from './guest-command.js';

const run = promisify(execFile);

let dir: string;
// Stands in for tmux: prints the argv the shell gave it, as /proc/<pid>/cmdline would hold it.
let printArgv: string;
const socket = '/tmp/tmuxme-1000/123-abcdef01/socket';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tmuxme-guest-command-'));
  printArgv = join(dir, 'print-argv');
  await writeFile(printArgv, '#!/bin/sh\nprintf \'%s\\0\' "$0" "$@"\n', { mode: 0o755 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What the client's argv is once sshd has run the forced command through /bin/sh -c. */
async function argvAfterShell(command: string): Promise<string[]> {
  const { stdout } = await run('/bin/sh', ['-c', command]);
  return stdout.split('\0').slice(0, -1);
}

describe('the guest\'s forced command', () => {
  it.each([false, true])('names the guest in the client\'s argv after the shell ran it (read-only: %s)', async (readOnly) => {
    const argv = await argvAfterShell(guestAttachCommand({ tmuxPath: printArgv, socket, username: 'alice', readOnly }));
    expect(argv).toEqual([
      printArgv, '-S', socket, 'attach-session', ...(readOnly ? ['-r'] : []), ';', 'display-message', `tmux.me: joined as alice${readOnly ? ' (read-only)' : ''}`,
    ]);
    expect(guestFromArgv(argv, { tmuxPath: printArgv, socket })).toBe('alice');
  });

  it('names nobody for a client started any other way', async () => {
    const expected = { tmuxPath: printArgv, socket };
    const alice = await argvAfterShell(guestAttachCommand({ ...expected, username: 'alice', readOnly: true }));
    expect(guestFromArgv([printArgv, '-S', socket, 'attach-session'], expected)).toBeUndefined();
    expect(guestFromArgv(alice, { ...expected, socket: '/tmp/other/socket' })).toBeUndefined();
    // Read-only in the greeting but not in the flags: not a command we wrote.
    expect(guestFromArgv(alice.filter((word) => word !== '-r'), expected)).toBeUndefined();
    expect(guestFromArgv([...alice.slice(0, -1), 'tmux.me: joined as Alice;x'], expected)).toBeUndefined();
  });

  it('refuses what the shell or sshd\'s quoting would read differently', () => {
    expect(() => guestAttachCommand({ tmuxPath: printArgv, socket, username: "al'ice", readOnly: false })).toThrow(/not a tmux.me username/);
    expect(() => guestAttachCommand({ tmuxPath: printArgv, socket: '/tmp/a b/socket', username: 'alice', readOnly: false })).toThrow(/socket path/);
    expect(() => guestAttachCommand({ tmuxPath: '/opt/"tmux"', socket, username: 'alice', readOnly: false })).toThrow(/tmux path/);
  });

  it('reads a running process\'s argv, and nothing once it is gone', async () => {
    const args = ['-e', 'setTimeout(() => {}, 30_000)', 'an argument with spaces'];
    const child = spawn(process.execPath, args);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(await processArgv(child.pid!)).toEqual([process.execPath, ...args]);
    child.kill();
    await exited;
    expect(await processArgv(child.pid!)).toBeUndefined();
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The addresses this machine listens on TCP `port` at, as the kernel reports them (`ss`):
 * `0.0.0.0` or `*` for every address, `127.0.0.1` and `[::1]` for loopback.
 */
export async function listeningAddresses(port: number): Promise<string[]> {
  const { stdout } = await run('ss', ['-Hltn', `sport = :${port}`]);
  return stdout.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3]!.replace(/:\d+$/, '')).sort();
}

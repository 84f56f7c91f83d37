import { spawn } from 'node:child_process';

/** The pid of a process that has run and been reaped: what a crashed run leaves behind. */
export async function pidOfAnExitedProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

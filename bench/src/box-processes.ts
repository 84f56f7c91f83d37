import { readdir, readFile } from 'node:fs/promises';

/** The listener's pid, from the pid file setup.sh's sshd writes (named after the box's port). */
export async function listenerPid(boxPort: number): Promise<number> {
  const pid = Number((await readFile(`/run/tmuxme-tunnel-${boxPort}.pid`, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in /run/tmuxme-tunnel-${boxPort}.pid`);
  return pid;
}

/** A /proc file, or undefined once its process is gone; any other failure (EMFILE above all) is thrown, not counted as gone. */
async function procFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (['ENOENT', 'ESRCH'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

/** `read` of each of `pids`, 256 files open at a time: thousands of held sockets already take most of our descriptors. */
async function eachPid<T>(pids: number[], read: (pid: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < pids.length; i += 256) results.push(...await Promise.all(pids.slice(i, i + 256).map(read)));
  return results;
}

/** Every pid → its parent, from /proc/<pid>/stat (a process gone meanwhile is left out). */
async function parents(): Promise<Map<number, number>> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const parentOf = new Map<number, number>();
  await eachPid(pids, async (pid) => {
    const stat = await procFile(`/proc/${pid}/stat`);
    // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
    const ppid = stat && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parentOf.set(pid, ppid);
  });
  return parentOf;
}

/**
 * The listener and all it forked: per connection, sshd keeps a privileged monitor (its child) and the
 * unprivileged process that holds the forward's socket (the monitor's child).
 */
export async function processTree(rootPid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of await parents()) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i += 1) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/**
 * Proportional set size, kB, summed: each process's private pages plus its share of the pages it
 * shares (sshd's code and libraries among thousands of forks), so the sum is what they cost together.
 */
export async function totalPssKb(pids: number[]): Promise<number> {
  const sizes = await eachPid(pids, async (pid) => Number(/^Pss:\s+(\d+) kB/m.exec(await procFile(`/proc/${pid}/smaps_rollup`) ?? '')?.[1] ?? 0));
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Sends `signal` (0: none, only counts) to each of `pids` that is still an sshd process, not a pid reused since. */
export async function signalSshd(pids: number[], signal: NodeJS.Signals | 0): Promise<number> {
  let signalled = 0;
  for (const pid of pids) {
    if (!(await procFile(`/proc/${pid}/cmdline`))?.startsWith('sshd')) continue;
    try {
      process.kill(pid, signal);
      signalled += 1;
    } catch {
      // gone meanwhile
    }
  }
  return signalled;
}

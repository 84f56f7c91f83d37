import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** How many more of something this machine allows, and which limit says so. */
export interface Room {
  free: number;
  limit: string;
}

const read = (file: string) => readFile(file, 'utf8').then((text) => text.trim()).catch(() => undefined);

/** This process's cgroup directories for a controller (v1) or the unified hierarchy (v2), innermost first. */
async function cgroupDirs(controller: string): Promise<string[]> {
  const lines = (await read('/proc/self/cgroup'))?.split('\n') ?? [];
  const v1 = lines.find((line) => line.split(':')[1]!.split(',').includes(controller));
  const v2Root = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
  const [root, path] = v1 ? [`/sys/fs/cgroup/${controller}`, v1.split(':')[2]!] : [v2Root, lines.find((line) => line.startsWith('0::'))?.slice(3) ?? '/'];
  const dirs: string[] = [];
  for (let dir = `${root}${path === '/' ? '' : path}`; dir.startsWith(root); dir = dirname(dir)) dirs.push(dir);
  return dirs;
}

/** The tightest of each cgroup level's `max` − `current` (v2 names, then v1's). */
async function cgroupRoom(controller: string, files: [max: string, current: string][]): Promise<Room[]> {
  const rooms: Room[] = [];
  for (const dir of await cgroupDirs(controller)) {
    for (const [maxFile, currentFile] of files) {
      const [max, current] = [Number(await read(`${dir}/${maxFile}`)), Number(await read(`${dir}/${currentFile}`))];
      // "max", a missing file, or v1's "unlimited" (2^63 rounded down to the page) all read as no limit.
      if (Number.isFinite(max) && Number.isFinite(current) && max < 2 ** 60) rooms.push({ free: max - current, limit: `${dir}/${maxFile} (${max})` });
    }
  }
  return rooms;
}

/** Tasks (threads included) this machine can still start: the cgroup's pids.max, then the kernel's own limits. */
export async function processRoom(): Promise<Room> {
  const tasks = Number((await read('/proc/loadavg'))!.split(' ')[3]!.split('/')[1]);
  const rooms = await cgroupRoom('pids', [['pids.max', 'pids.current']]);
  for (const name of ['pid_max', 'threads-max']) {
    const limit = Number(await read(`/proc/sys/kernel/${name}`));
    rooms.push({ free: limit - tasks, limit: `kernel.${name} (${limit}; ${tasks} tasks now)` });
  }
  return rooms.reduce((tightest, room) => (room.free < tightest.free ? room : tightest));
}

/** Bytes the box may still take: MemAvailable, or the memory cgroup's limit when it is tighter. */
export async function memoryRoom(): Promise<Room> {
  const available = Number(/^MemAvailable:\s+(\d+) kB/m.exec((await read('/proc/meminfo'))!)?.[1]) * 1024;
  const rooms = [{ free: available, limit: `MemAvailable (${(available / 2 ** 30).toFixed(1)} GiB)` }, ...await cgroupRoom('memory', [
    ['memory.max', 'memory.current'], ['memory.limit_in_bytes', 'memory.usage_in_bytes'],
  ])];
  return rooms.reduce((tightest, room) => (room.free < tightest.free ? room : tightest));
}

/**
 * kB the kernel holds for processes and sockets (their stacks, page tables, unreclaimable slab): what a
 * forward costs beyond its processes' PSS. Machine-wide, but little else moves it while the box fills.
 */
export async function kernelKb(): Promise<number> {
  const meminfo = (await read('/proc/meminfo'))!;
  return ['KernelStack', 'PageTables', 'SUnreclaim'].reduce((sum, name) => sum + Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0), 0);
}

/** Descriptors this process may still open: each held connection is one socket. */
export async function fileRoom(): Promise<Room> {
  const soft = Number(/^Max open files\s+(\d+)/m.exec((await read('/proc/self/limits'))!)?.[1]);
  const open = (await readdir('/proc/self/fd')).length;
  return { free: soft - open, limit: `this process's open-file limit (${soft}; ${open} open)` };
}

/**
 * Raises this process's open-file limit to `wanted` if it is lower: prlimit(1) can set a running
 * process's limits, and root may go up to fs.nr_open. Node raised its soft limit to the hard one at start.
 */
export async function raiseFileLimit(wanted: number): Promise<string | undefined> {
  const soft = Number(/^Max open files\s+(\d+)/m.exec((await read('/proc/self/limits'))!)?.[1]);
  if (soft >= wanted) return undefined;
  const ceiling = Number(await read('/proc/sys/fs/nr_open'));
  const target = Math.min(wanted, ceiling);
  try {
    await promisify(execFile)('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${target}`]);
    return `open-file limit raised from ${soft} to ${target} (prlimit)`;
  } catch (error) {
    return `open-file limit ${soft} is below the ${wanted} needed and prlimit could not raise it (${(error as Error).message.trim()}): `
      + `run as root, or under \`prlimit --nofile=${wanted}:${wanted} npm run bench:box-capacity\``;
  }
}

/**
 * A reader that runs beside a writer, in its own process so its reads really interleave with the
 * writes: `node --import tsx poll-file.ts <file> <gid> <counted|authorized-keys>`. It reads the file
 * as fast as it can (open, fstat, read through the same descriptor, so owner, mode and bytes belong
 * to one inode), prints "ready" after its first read, and a JSON summary once stdin closes.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

const [file = '', gid = '', check = ''] = process.argv.slice(2);
const keyLine = /^restrict,port-forwarding,(permitlisten="\d{1,5}",)+command="\/usr\/local\/bin\/tunnel-hold" [a-z0-9@.-]+ [A-Za-z0-9+/]+={0,2} tmuxme:[^ ]+:[^ ]+$/;

/** Whole files only: a cut-off one fails its own count, or ends mid-line. */
const checks: Record<string, (text: string) => boolean> = {
  counted(text) {
    const lines = text.split('\n');
    const n = Number(/^# n=(\d+)$/.exec(lines[0] ?? '')?.[1]);
    return lines.length === n + 3 && lines[n + 1] === `# end n=${n}` && lines[n + 2] === '';
  },
  'authorized-keys': (text) => text.endsWith('\n') && text.slice(0, -1).split('\n').every((line, i) => (i === 0 ? line.startsWith('# ') : keyLine.test(line))),
};

let reads = 0;
let lines = { first: -1, last: -1, shrank: 0 };
const problems: string[] = [];
let stopping = false;
process.stdin.on('end', () => { stopping = true; }).resume();

function readOnce() {
  const fd = openSync(file, 'r');
  try {
    const stat = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    if (stat.uid !== 0 || stat.gid !== Number(gid) || (stat.mode & 0o777) !== 0o640) {
      problems.push(`owner ${stat.uid}:${stat.gid} mode ${(stat.mode & 0o777).toString(8)}`);
    }
    if (!checks[check]!(text)) problems.push(`not a whole file (${text.length} bytes): …${text.slice(-80)}`);
    const count = text.split('\n').length;
    if (count < lines.last) lines.shrank += 1;
    lines = { first: lines.first < 0 ? count : lines.first, last: count, shrank: lines.shrank };
  } finally {
    closeSync(fd);
  }
  reads += 1;
  if (reads === 1) process.stdout.write('ready\n');
}

(function loop() {
  if (stopping) {
    process.stdout.write(`${JSON.stringify({ reads, lines, problems: problems.slice(0, 10), problemCount: problems.length })}\n`);
    return;
  }
  readOnce();
  setImmediate(loop);
})();

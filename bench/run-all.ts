/**
 * Runs the benches one after another, each as a process of its own (so none inherits another's load
 * or leftovers), and ends with one table of every figure against its target.
 *
 *   npm run bench                              every bench, at full size (minutes: run it on a quiet machine)
 *   npm run bench -- --quick                   small samples (BENCH_QUICK=1): shows each bench works, fast
 *   npm run bench -- --only lease,notifier     only these
 *
 * Exits with 1 when a bench failed (a missed target is in the table, not a failure); the benches that
 * need root are skipped, saying so, for another user.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { markdownTable, parseRows, type Row } from './src/report.js';

interface Bench {
  name: string;
  /** Why it needs root, if it does. */
  root?: string;
}

// Cheapest first, so a quick run shows a broken stack before the long benches start.
const benches: Bench[] = [
  { name: 'keys-api' },
  { name: 'store-ceiling' },
  { name: 'lease' },
  { name: 'session-declare' },
  { name: 'notifier' },
  { name: 'tunnel-sync', root: 'it runs a tunnel box (an sshd of its own)' },
  { name: 'session-setup', root: 'it puts the host and the guest in network namespaces, with sshd' },
  { name: 'box-capacity', root: 'it runs a tunnel box (an sshd of its own) and fills it with forwards' },
];

const scripts = readdirSync(import.meta.dirname).filter((file) => file.endsWith('.ts') && file !== 'run-all.ts').map((file) => file.slice(0, -3));
const unlisted = scripts.filter((name) => !benches.some((bench) => bench.name === name));
if (unlisted.length > 0) throw new Error(`bench/run-all.ts does not know ${unlisted.map((name) => `${name}.ts`).join(', ')}: add it to its list`);

const { values: options } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const wanted = options.only?.split(',').map((name) => name.trim()).filter(Boolean);
const unknown = wanted?.filter((name) => !benches.some((bench) => bench.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; the benches are ${benches.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}
const isRoot = process.getuid?.() === 0;

/** Runs bench/<name>.ts with its output on ours; resolves with how it ended (0, another code or a signal) and the figures it wrote. */
async function runBench(name: string, resultsFile: string): Promise<{ ended: number | NodeJS.Signals; rows: Row[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, `${name}.ts`)], {
    cwd: join(import.meta.dirname, '..'),
    stdio: 'inherit',
    env: { ...process.env, BENCH_JSON: resultsFile, ...(options.quick ? { BENCH_QUICK: '1' } : {}) },
  });
  const ended = await new Promise<number | NodeJS.Signals>((done) => child.once('close', (code, signal) => done(code ?? signal!)));
  const rows = parseRows(await readFile(resultsFile, 'utf8').catch(() => ''));
  return { ended, rows };
}

const directory = await mkdtemp(join(tmpdir(), 'tmuxme-bench-'));
const rows: Row[] = [];
const notes: string[] = [];
let failed = 0;
try {
  for (const { name, root } of benches.filter((bench) => !wanted || wanted.includes(bench.name))) {
    if (root && !isRoot) {
      const reason = `skipped: it needs root, as ${root}; run \`sudo npm run bench -- --only ${name}\``;
      console.log(`\n## ${name}: ${reason}`);
      notes.push(`${name}: ${reason}`);
      continue;
    }
    console.log(`\n## ${name}${options.quick ? ' (quick)' : ''}\n`);
    const started = performance.now();
    const result = await runBench(name, join(directory, `${name}.jsonl`));
    const seconds = ((performance.now() - started) / 1000).toFixed(0);
    rows.push(...result.rows);
    if (result.ended !== 0 || result.rows.length === 0) {
      failed += 1;
      const why = result.ended === 0 ? 'it reported no figures' : typeof result.ended === 'number' ? `exit code ${result.ended}` : `killed by ${result.ended}`;
      notes.push(`${name}: FAILED (${why}) after ${seconds} s`);
    } else {
      notes.push(`${name}: ${seconds} s`);
    }
  }
} finally {
  await rm(directory, { recursive: true, force: true });
}

console.log(`\n## Benchmarks${options.quick ? ' — quick mode: small samples, the figures only show that each bench runs' : ''}\n`);
console.log(rows.length > 0 ? markdownTable(rows) : '(no figures)');
console.log(`\n${notes.map((note) => `- ${note}`).join('\n')}`);
if (failed > 0) process.exitCode = 1;

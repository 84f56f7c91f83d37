/**
 * `BENCH_QUICK=1` (what `npm run bench -- --quick` sets) shrinks every sample so that a run only shows
 * that each bench works, in a few minutes; its figures mean little.
 */
export const quick = process.env.BENCH_QUICK === '1';

/** A sample size: the environment's if it sets `name`, else the full or the quick default. */
export function size(name: string, full: number, quickDefault: number): number {
  const value = Number(process.env[name] ?? (quick ? quickDefault : full));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not ${process.env[name]}`);
  return value;
}

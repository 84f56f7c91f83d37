/** The nearest-rank percentile: a value that was measured, never an interpolation. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error('no samples to take a percentile of');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

import { appendFileSync } from 'node:fs';

export type Comparison = '<' | '<=' | '>' | '>=';
/** What a figure should be, in its own unit: `'>= 200'`, `'< 25'`. */
export type Target = `${Comparison} ${number}`;

/** One figure of one bench, as every bench script reports it to run-all.ts. */
export interface Row {
  benchmark: string;
  measure: string;
  value: number;
  unit: string;
  target?: Target;
}

/** Large figures to the unit, small ones to three significant digits: the noise is larger than that. */
function rounded(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3));
}

/**
 * A bench's figures go, besides its own printed lines, to the file named by `BENCH_JSON` (one row per
 * line, appended as each is measured, so the figures before a failure are kept). Unset, nothing is written.
 */
export function figures(benchmark: string, file = process.env.BENCH_JSON) {
  return (measure: string, value: number, unit: string, target?: Target): void => {
    if (!Number.isFinite(value)) throw new Error(`${benchmark}: ${measure} measured ${value}`);
    const row: Row = { benchmark, measure, value: rounded(value), unit, ...(target ? { target } : {}) };
    if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
  };
}

export function parseRows(text: string): Row[] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Row);
}

export function meets(value: number, target: Target): boolean {
  const [comparison, bound] = target.split(' ') as [Comparison, string];
  const limit = Number(bound);
  switch (comparison) {
    case '<': return value < limit;
    case '<=': return value <= limit;
    case '>': return value > limit;
    case '>=': return value >= limit;
  }
}

const shownComparison: Record<Comparison, string> = { '<': '<', '<=': '≤', '>': '>', '>=': '≥' };

/** One markdown table of every row, each with its target and whether the figure met it. */
export function markdownTable(rows: Row[]): string {
  const cells = rows.map((row) => {
    const [comparison, bound] = row.target ? row.target.split(' ') as [Comparison, string] : [];
    const target = comparison ? `${shownComparison[comparison]} ${bound}` : '';
    const met = row.target ? (meets(row.value, row.target) ? 'yes' : '**no**') : '';
    return [row.benchmark, row.measure, String(row.value), row.unit, target, met];
  });
  const header = ['benchmark', 'measure', 'value', 'unit', 'target', 'met?'];
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column]!.length)));
  const line = (cell: string[]) => `| ${cell.map((text, column) => (column === 2 ? text.padStart(widths[column]!) : text.padEnd(widths[column]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 2 ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

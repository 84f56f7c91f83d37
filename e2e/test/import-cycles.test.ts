import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';

/**
 * No module of the repository imports itself through others (type-only imports count too): a circle makes a
 * newcomer read both files at once to understand either, and the order in which ESM evaluates them decides
 * which one sees the other half-made.
 */
const root = resolve(import.meta.dirname, '../..');
const files = execFileSync('git', ['ls-files', '*.ts', '*.tsx', ':!*.d.ts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const known = new Set(files);

/** The repository files a module imports or re-exports by a relative path (`./x.js` is the source `./x.ts` or `./x.tsx`). */
function importsOf(file: string): string[] {
  const source = readFileSync(join(root, file), 'utf8');
  return [...source.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)].flatMap(([, path]) => {
    const base = normalize(join(dirname(file), path!)).replace(/\.jsx?$/, '');
    return ['.ts', '.tsx'].map((extension) => base + extension).filter((candidate) => known.has(candidate));
  });
}

describe('imports', () => {
  it('form no circle', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    const circles: string[] = [];
    const done = new Set<string>();
    const path: string[] = [];
    const visit = (file: string) => {
      path.push(file);
      for (const next of graph.get(file)!) {
        if (path.includes(next)) circles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else if (!done.has(next)) visit(next);
      }
      path.pop();
      done.add(file);
    };
    for (const file of files) if (!done.has(file)) visit(file);
    expect(graph.size).toBeGreaterThan(300);
    expect(circles).toEqual([]);
  });
});

import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';

/**
 * The repository explains itself: every relative path its Markdown links to, or its source comments name
 * as a document, is a file or folder of the repository. A path that climbs out of it fails even when it
 * exists on this machine, since a reader of the repository alone would not have it.
 */
const root = resolve(import.meta.dirname, '../..');
const tracked = (...patterns: string[]) => execFileSync('git', ['ls-files', '-z', '--', ...patterns], { cwd: root, encoding: 'utf8' })
  .split('\0').filter((file) => file && existsSync(resolve(root, file)));

/** `[text](path)` or `[text](path#anchor "title")`: the path part. */
const markdownLink = /\]\(<?([^)\s>#]+)[^)]*\)/g;
/** In a comment: paths starting with `../`, `docs/…`, and anything ending in `.md`. */
const pathInComment = /(?:\.\.\/[\w./-]*\w|\bdocs\/[\w./-]*\w|[\w./-]*\w\.md)\b/g;
const url = /\b[a-z][a-z0-9+.-]*:\/\/\S*/gi;
const commentOf = (file: string, line: string) => {
  const marker = /\.(sh|ya?ml)$/.test(file) ? /(?:^|\s)#(.*)$/ : /(?:^\s*\*|\/\*|(?:^|\s)\/\/)(.*)$/;
  return marker.exec(line)?.[1];
};

interface Reference { file: string; line: number; target: string; resolved: string }

function referencesIn(file: string): Reference[] {
  const found: Reference[] = [];
  let fenced = false;
  readFileSync(resolve(root, file), 'utf8').split('\n').forEach((text, index) => {
    const add = (target: string, base: string) => found.push({ file, line: index + 1, target, resolved: resolve(base, decodeURI(target)) });
    if (file.endsWith('.md')) {
      if (/^\s*(```|~~~)/.test(text)) fenced = !fenced;
      if (fenced) return;
      for (const [, target] of text.matchAll(markdownLink)) {
        if (!/^[a-z][a-z0-9+.-]*:/i.test(target!)) add(target!, resolve(root, dirname(file)));
      }
      return;
    }
    for (const [target] of (commentOf(file, text) ?? '').replace(url, '').matchAll(pathInComment)) {
      add(target, target.startsWith('.') ? resolve(root, dirname(file)) : root);
    }
  });
  return found;
}

const deadIn = (files: string[]) => files.flatMap(referencesIn)
  .filter(({ resolved }) => { const inside = relative(root, resolved); return inside.startsWith('..') || isAbsolute(inside) || !existsSync(resolved); })
  .map(({ file, line, target }) => `${file}:${line}: ${target}`);

describe('the repository explains itself', () => {
  it('every Markdown link to a relative path points into the repository', () => {
    const files = tracked('*.md');
    expect(files).toContain('docs/architecture.md');
    expect(deadIn(files)).toEqual([]);
  });

  it('every document a source comment names is in the repository', () => {
    expect(deadIn(tracked('*.ts', '*.tsx', '*.js', '*.mjs', '*.sh', '*.yaml'))).toEqual([]);
  });
});

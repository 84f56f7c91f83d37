// `node --import ./trace-imports.mjs …` appends the URL of every module the program imports to the
// file named by TRACE_IMPORTS_FILE: what loaded-modules.test.ts reads to tell what a command loaded.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(file, resolved.url + '\\n');
  return resolved;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file: process.env.TRACE_IMPORTS_FILE } });

#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { commands } from '../commands/index.js';
import { previousRunReport } from '../host/run-log.js';
import { guardStandardStreams } from '../lib/standard-streams.js';

const [first, ...rest] = process.argv.slice(2);

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'tmuxme: pair over tmux and SSH. Your guests get an e-mail with one ssh command.',
    '',
    'Usage: tmuxme <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `tmuxme <command> --help` for a command\'s options, `tmuxme --version` for the version.',
  ].join('\n');
}

/** The installed package's own manifest: dist/bin/ and src/bin/ both sit two levels below it. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

async function main(): Promise<number> {
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    console.log(help());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    console.log(version());
    return 0;
  }
  const command = commands.find((c) => c.name === first) ?? commands.find((c) => c.name === 'host');
  if (!command) {
    console.error(`tmuxme: unknown command "${first}"\n\n${help()}`);
    return 2;
  }
  // A host run that ended while its terminal was gone (or that was killed) is told about by whatever runs next.
  const previous = previousRunReport();
  if (previous) console.error(previous);
  return command.run(command.name === first ? rest : [first, ...rest]);
}

guardStandardStreams();
main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(`tmuxme: ${(error as Error).message}`);
  process.exitCode = 1;
});

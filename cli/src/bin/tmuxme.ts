#!/usr/bin/env node
import { commands } from '../commands/index.js';

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
    'Run `tmuxme <command> --help` for a command\'s options.',
  ].join('\n');
}

async function main(): Promise<number> {
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    console.log(help());
    return first === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === first) ?? commands.find((c) => c.name === 'host');
  if (!command) {
    console.error(`tmuxme: unknown command "${first}"\n\n${help()}`);
    return 2;
  }
  return command.run(command.name === first ? rest : [first, ...rest]);
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  console.error(`tmuxme: ${(error as Error).message}`);
  process.exitCode = 1;
});

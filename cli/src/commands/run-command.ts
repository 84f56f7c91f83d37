import { PromptCancelled } from '../lib/prompt.js';
import type { Command } from './command.js';

/** Wrong flags or arguments: the command's usage follows the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function isParseArgsError(error: unknown): boolean {
  return String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
}

/**
 * What every command does alike: `--help`, exit 2 with the usage on bad flags, exit 1 with one
 * line (what went wrong and what to do) on a failure, 130 when a prompt is cancelled.
 * Anything after `--` belongs to another program (ssh, for `join`), so `--help` there is not ours.
 */
export async function runCommand(command: Pick<Command, 'name' | 'usage'>, argv: string[], work: () => Promise<number>): Promise<number> {
  const end = argv.indexOf('--');
  const ownArgs = end < 0 ? argv : argv.slice(0, end);
  if (ownArgs.includes('--help') || ownArgs.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await work();
  } catch (error) {
    if (error instanceof PromptCancelled) return 130;
    if (error instanceof UsageError || isParseArgsError(error)) {
      console.error(`tmuxme ${command.name}: ${(error as Error).message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`tmuxme ${command.name}: ${(error as Error).message}`);
    if (process.env.TMUXME_DEBUG) console.error((error as Error).stack);
    return 1;
  }
}

/** Every command that talks to the server takes `--server`. */
export const serverOption = { server: { type: 'string' } } as const;
export const serverUsage = '  --server <url>      the tmux.me server (otherwise TMUXME_SERVER, then the config file, then https://tmux.me)';

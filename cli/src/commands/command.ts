/**
 * One `tmuxme <name>` command. Its file parses the flags and calls one function
 * that does the work; `run` resolves to the process's exit code.
 */
export interface Command {
  name: string;
  /** One line for `tmuxme --help`. */
  summary: string;
  /** The command's own `--help` text. */
  usage: string;
  run(argv: string[]): Promise<number>;
}

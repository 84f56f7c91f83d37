import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** The user pressed Ctrl-C or Ctrl-D at a prompt. */
export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';

  constructor() {
    super('cancelled');
  }
}

export interface AskOptions {
  /** For passwords: nothing typed is echoed. */
  hidden?: boolean;
}

/**
 * Asks for a non-empty value. On a terminal the question goes to stderr (stdout stays clean for
 * `--json` and pipes); otherwise the next line of stdin is the answer, so scripts and tests can
 * pipe their answers in, one per line, in the order the command asks.
 */
export async function ask(question: string, { hidden = false }: AskOptions = {}): Promise<string> {
  if (!process.stdin.isTTY) {
    const answer = await pipedLines().next();
    if (!answer) throw new Error(`No answer to "${question.replace(/[:?\s]+$/, '')}" on stdin: pipe in one line per question, or run the command in a terminal.`);
    return answer;
  }
  for (;;) {
    const answer = await askOnTerminal(question, hidden);
    if (answer) return answer;
  }
}

function askOnTerminal(question: string, hidden: boolean): Promise<string> {
  // readline echoes through its output stream; muting that stream after the question hides the typing.
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const terminal = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve, reject) => {
    let answered = false;
    terminal.on('SIGINT', () => terminal.close());
    terminal.on('close', () => {
      if (hidden) process.stderr.write('\n');
      if (!answered) reject(new PromptCancelled());
    });
    terminal.question(question, (answer) => {
      answered = true;
      resolve(answer.trim() === '' ? '' : hidden ? answer : answer.trim());
      terminal.close();
    });
    muted = hidden;
  });
}

/** Hands out stdin one line at a time, holding the rest for the next question. */
class LineReader {
  private buffer = '';
  private ended = false;
  private readonly waiting: ((line: string | undefined) => void)[] = [];

  constructor(private readonly input: NodeJS.ReadableStream) {
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => { this.buffer += chunk; this.serve(); });
    input.on('end', () => { this.ended = true; this.serve(); });
    input.pause();
  }

  next(): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.serve();
    });
  }

  private serve(): void {
    while (this.waiting.length > 0) {
      const newline = this.buffer.indexOf('\n');
      if (newline < 0 && !this.ended) {
        this.input.resume();
        return;
      }
      const line = newline < 0 ? this.buffer : this.buffer.slice(0, newline);
      this.buffer = newline < 0 ? '' : this.buffer.slice(newline + 1);
      this.waiting.shift()!(line.replace(/\r$/, '') || undefined);
    }
    // Nobody is asking: a paused stdin lets the process exit when the command is done.
    this.input.pause();
  }
}

let stdinLines: LineReader | undefined;
function pipedLines(): LineReader {
  stdinLines ??= new LineReader(process.stdin);
  return stdinLines;
}

import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { eventually } from '@tmuxme/testing';

const root = resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  service: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Everything it wrote so far, for failure messages. */
  output(): string;
  /** Sends the signal and waits for the process to end. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * A service's main.ts as its own process, the way `npm run up` and the images run it: node runs main.ts,
 * tsx only loads it, so a signal reaches the service itself. Only PATH is inherited from the test.
 */
export function startServiceProcess(service: string, env: Record<string, string>): ServiceProcess {
  return startProcess(service, process.execPath, ['--import', 'tsx', resolve(root, `services/${service}/src/main.ts`)], { LOG_LEVEL: 'warn', ...env });
}

/** Any command as such a process, from the repository root, e.g. an image's start command. */
export function startProcess(name: string, command: string, args: string[], env: Record<string, string>): ServiceProcess {
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk; });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk; });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    service: name,
    child,
    exited,
    output: () => output,
    stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resolves with the /readyz body once the service on this port answers it with 200. */
export async function untilReady(port: number, service: ServiceProcess, timeoutMs = 30_000): Promise<unknown> {
  return eventually(async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return response?.status === 200 ? response.json() : undefined;
  }, timeoutMs).catch((error: unknown) => {
    throw new Error(`${service.service} never became ready on port ${port}: ${String(error)}\n${service.output()}`);
  });
}

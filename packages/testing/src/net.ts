import { execFile } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { promisify } from 'node:util';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await canConnect(port, host)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
}

/** Sends text to a TCP port and gives back what came back before the far end closed (or 3 s passed). */
export function exchange(port: number, text: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host, port }, () => socket.write(text));
    const giveUp = setTimeout(() => socket.destroy(), 3_000);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.length >= text.length) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => { clearTimeout(giveUp); resolve(received); });
  });
}

/**
 * The addresses this machine listens on at TCP `port`, as the kernel reports them (`ss`), without the
 * port and sorted: `0.0.0.0` and `[::]` for every address, `127.0.0.1` and `[::1]` for loopback alone.
 */
export async function listeningAddresses(port: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ss', ['-Hltn', `sport = :${port}`]);
  return stdout.split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3]!.replace(/:\d+$/, '')).sort();
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { NetworkNamespace } from './netns.js';

const run = promisify(execFile);
// Apart from every subnet the end-to-end worlds use.
const subnet = 90;

const namespaces = async () => (await run('ip', ['netns', 'list'])).stdout;

describe('a network namespace', () => {
  let server: Server;
  let port: number;
  const made: NetworkNamespace[] = [];

  beforeAll(async () => {
    server = createServer((socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await Promise.all(made.map((ns) => ns.destroy()));
    await new Promise((resolve) => server.close(resolve));
  });

  const reachesUs = (ns: NetworkNamespace) => ns.exec('bash', ['-c', `exec 3<>/dev/tcp/${ns.gateway}/${port}; head -n1 <&3`], { timeoutMs: 5000 });

  it('reaches this machine at its gateway address', async () => {
    const ns = await NetworkNamespace.create(subnet);
    made.push(ns);
    expect((await reachesUs(ns)).stdout).toBe('hello\n');
  });

  it('takes over its subnet from one a killed run left behind, whose route would swallow its replies', async () => {
    // The namespace of the test above, never destroyed: what a run killed before its teardown leaves.
    const left = made[0]!;
    const ns = await NetworkNamespace.create(subnet);
    made.push(ns);
    expect(await namespaces()).not.toContain(left.name);
    expect(await namespaces()).toContain(ns.name);
    expect((await reachesUs(ns)).stdout).toBe('hello\n');
  });
});

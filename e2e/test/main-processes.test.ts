import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { generateSigningKeys } from '@tmuxme/auth';
import { eventually, freePort, testAmqpUrl, uniqueName } from '@tmuxme/testing';

/**
 * Each service's main.ts, run as its own process the way `npm run up` and the
 * containers do: it reads its settings, listens, and stops cleanly on SIGTERM.
 */
const root = resolve(import.meta.dirname, '../..');
const running: ChildProcess[] = [];
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

function startMain(service: string, env: Record<string, string>) {
  // As in the images: node runs main.ts, tsx only loads it, so SIGTERM reaches the service itself.
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, `services/${service}/src/main.ts`)], {
    cwd: root,
    env: { PATH: process.env.PATH!, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk; });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk; });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, exited, output: () => output };
}

/** A real host key line for the sessions service, made without a subprocess so the table can be built up front. */
function ed25519PublicKeyLine(): string {
  const { x } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(Buffer.from(x!, 'base64url'))]).toString('base64')}`;
}

function database(name: string) {
  const url = new URL(process.env.TEST_MONGODB_URL!);
  url.pathname = `/${uniqueName(name).replace(/-/g, '_')}`;
  return url.toString();
}

describe('service processes', () => {
  const keys = generateSigningKeys();

  it.each([
    ['accounts', { JWT_PRIVATE_KEY: keys.privateKey, JWT_PUBLIC_KEY: keys.publicKey, MONGODB_URI: database('accounts') }],
    ['keys', { JWT_PUBLIC_KEY: keys.publicKey, MONGODB_URI: database('keys') }],
    ['sessions', { JWT_PUBLIC_KEY: keys.publicKey, MONGODB_URI: database('sessions'), TUNNEL_HOST_KEY: ed25519PublicKeyLine() }],
    ['gateway', {}],
  ])('%s starts, answers /readyz and stops cleanly on SIGTERM', async (service, env) => {
    const port = await freePort();
    const process_ = startMain(service, { ...env, PORT: String(port), AMQP_URL: testAmqpUrl() });
    const ready = await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return response?.status === 200 ? response.json() : undefined;
    }, 30_000).catch((error) => { throw new Error(`${service} never became ready: ${error}\n${process_.output()}`); });
    expect(ready).toMatchObject({ ready: true });
    process_.child.kill('SIGTERM');
    expect(await process_.exited).toBe(0);
  });

  it('refuses to start with a clear message when a setting is missing', async () => {
    const process_ = startMain('keys', { PORT: String(await freePort()) });
    expect(await process_.exited).not.toBe(0);
    expect(process_.output()).toContain('JWT_PUBLIC_KEY is required');
  });
});

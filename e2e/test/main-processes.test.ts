import { afterAll, describe, expect, it } from '@jest/globals';
import { generateSigningKeys } from '@tmuxme/auth';
import { freePort, testAmqpUrl, uniqueName } from '@tmuxme/testing';
import { startServiceProcess, untilReady, type ServiceProcess } from '../src/index.js';

/**
 * Each service's main.ts, run as its own process the way `npm run up` and the
 * containers do: it reads its settings, listens, and stops cleanly on SIGTERM.
 */
const running: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((service) => service.stop('SIGKILL')));
});

function startMain(service: string, env: Record<string, string>) {
  const started = startServiceProcess(service, env);
  running.push(started);
  return started;
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
    ['sessions', { JWT_PUBLIC_KEY: keys.publicKey, MONGODB_URI: database('sessions') }],
    ['gateway', {}],
  ])('%s starts, answers /readyz and stops cleanly on SIGTERM', async (service, env) => {
    const port = await freePort();
    const process_ = startMain(service, { ...env, PORT: String(port), AMQP_URL: testAmqpUrl() });
    const ready = await untilReady(port, process_);
    expect(ready).toMatchObject({ ready: true });
    expect(await process_.stop('SIGTERM')).toBe(0);
  });

  it('refuses to start with a clear message when a setting is missing', async () => {
    const process_ = startMain('keys', { PORT: String(await freePort()) });
    expect(await process_.exited).not.toBe(0);
    expect(process_.output()).toContain('JWT_PUBLIC_KEY is required');
  });
});

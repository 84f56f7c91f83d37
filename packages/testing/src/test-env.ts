import { randomBytes } from 'node:crypto';

/** A name no other test or run uses: databases, exchanges and queues get one each. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest with @tmuxme/testing's globalSetup`);
  return value;
}

/** The URL of a fresh database on the run's server (FerretDB keeps each database apart). */
export function testMongoUrl(database: string): string {
  const url = new URL(required('TEST_MONGODB_URL'));
  url.pathname = `/${database.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  return url.toString();
}

export function testAmqpUrl(): string {
  return required('TEST_AMQP_URL');
}

/** Exchange names private to one test file, so concurrent runs never see each other's events. */
export function testExchanges(): { exchange: string; deadLetterExchange: string } {
  const id = uniqueName('t');
  return { exchange: `tmuxme.events.${id}`, deadLetterExchange: `tmuxme.dlx.${id}` };
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Type } from 'typebox';
import { buildApp, TcpProxy, testAmqpUrl, testExchanges, testMongoUrl, uniqueName } from '@tmuxme/testing';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { busPlugin, conflict, databasePlugin, healthPlugin } from './index.js';

/** A tiny service built from the kit, against a FerretDB reached through a proxy the test can cut. */
let proxy: TcpProxy;
const demo: FastifyPluginAsyncTypebox<{ mongoUrl: string }> = async (app, { mongoUrl }) => {
  await app.register(healthPlugin, { service: 'demo' });
  await app.register(databasePlugin, { url: mongoUrl });
  await app.register(busPlugin, { url: testAmqpUrl(), producer: 'demo', ...testExchanges() });
  app.post('/things', {
    schema: { body: Type.Object({ name: Type.String({ maxLength: 5 }), size: Type.Optional(Type.Integer()) }, { additionalProperties: false }) },
  }, async (request) => {
    if (request.body.name === 'taken') throw conflict('NAME_TAKEN', 'That name is taken.');
    return app.db.collection('things').countDocuments();
  });
};
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  const target = new URL(process.env.TEST_MONGODB_URL!);
  proxy = await new TcpProxy({ host: target.hostname, port: Number(target.port) }).start();
  const mongoUrl = new URL(testMongoUrl(uniqueName('kit')));
  mongoUrl.host = proxy.url;
  app = await buildApp(demo, { mongoUrl: mongoUrl.toString() });
});
afterAll(async () => {
  await app?.close();
  await proxy?.stop();
});

const post = (payload: string) => app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload });

describe('service kit', () => {
  it.each([
    ['{"name": 1}', 'VALIDATION_FAILED', 'The field "name" must be text.'],
    ['{"name": "toolong"}', 'VALIDATION_FAILED', 'The field "name" must be at most 5 characters long.'],
    ['{}', 'VALIDATION_FAILED', 'The field "name" is required.'],
    ['{"name": "a", "extra": 1}', 'VALIDATION_FAILED', 'The field "extra" is not expected here.'],
    ['{"name": "a", "size": "3"}', 'VALIDATION_FAILED', 'The field "size" must be a whole number.'],
    ['[]', 'VALIDATION_FAILED', 'The request body must be a JSON object.'],
    ['{"name":', 'INVALID_JSON', 'The request body is not valid JSON.'],
    ['{"name": "taken"}', 'NAME_TAKEN', 'That name is taken.'],
  ])('%s → %s', async (payload, code, message) => {
    const response = await post(payload);
    expect(response.statusCode).toBe(code === 'NAME_TAKEN' ? 409 : 400);
    expect(response.json()).toMatchObject({ code, message });
  });

  it('answers unknown routes and wrong media types with codes', async () => {
    expect((await app.inject({ url: '/nope' })).json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    const text = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('keeps the request id the gateway sent, or makes one, and tells it back', async () => {
    expect((await app.inject({ url: '/healthz', headers: { 'x-request-id': 'from-gateway' } })).headers['x-request-id']).toBe('from-gateway');
    expect((await app.inject({ url: '/nope' })).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 503 with Retry-After while the database is unreachable, and recovers by itself', async () => {
    expect((await post('{"name": "a"}')).statusCode).toBe(200);
    await proxy.cut();
    const down = await post('{"name": "a"}');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    expect(down.headers['retry-after']).toBe('5');
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
    await proxy.restore();
    let recovered = 0;
    for (let i = 0; i < 100 && recovered !== 200; i += 1) {
      recovered = (await post('{"name": "a"}')).statusCode;
      if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(200);
  }, 30_000);
});

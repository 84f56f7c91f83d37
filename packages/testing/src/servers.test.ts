import { afterAll, describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { testMongoUrl, TcpProxy, canConnect, uniqueName } from './index.js';

describe('test servers', () => {
  const connection = mongoose.createConnection(testMongoUrl(uniqueName('harness')));
  afterAll(() => connection.close());

  it('gives a real MongoDB wire-protocol server that enforces unique indexes', async () => {
    const Thing = connection.model('Thing', new mongoose.Schema({ name: { type: String, unique: true } }));
    await Thing.init();
    await Thing.create({ name: 'one' });
    await expect(Thing.create({ name: 'one' })).rejects.toMatchObject({ code: 11000 });
    expect(await Thing.countDocuments()).toBe(1);
  });

  it('has a TCP proxy that can be cut and restored', async () => {
    const url = new URL(process.env.TEST_MONGODB_URL!);
    const proxy = await new TcpProxy({ host: url.hostname, port: Number(url.port) }).start();
    expect(await canConnect(proxy.port)).toBe(true);
    await proxy.cut();
    expect(await canConnect(proxy.port)).toBe(false);
    await proxy.restore();
    expect(await canConnect(proxy.port)).toBe(true);
    await proxy.stop();
  });
});

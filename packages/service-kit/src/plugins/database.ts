import fp from 'fastify-plugin';
import mongoose from 'mongoose';

declare module 'fastify' {
  interface FastifyInstance {
    db: mongoose.Connection;
  }
}

export interface DatabaseOptions {
  url: string;
}

/** The service's own MongoDB database; no other service reads it. */
export const databasePlugin = fp<DatabaseOptions>(async (app, { url }) => {
  const connection = mongoose.createConnection(url, { serverSelectionTimeoutMS: 5_000 });
  await connection.asPromise();
  app.decorate('db', connection);
  app.readiness.add('database', () => connection.readyState === mongoose.ConnectionStates.connected);
  app.addHook('onClose', async () => {
    await connection.close();
  });
}, { name: 'database', dependencies: ['health'] });

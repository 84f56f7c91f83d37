import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import mongoose from 'mongoose';
import { canConnect } from './net.js';
import { startFerretDB, type RunningServer } from './ferretdb.js';
import { uniqueName } from './test-env.js';

/** The launcher's PostgreSQL backend, against the machine's PostgreSQL (CI machines always run one). */
const started: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
});

async function roundTrip(url: string) {
  const connection = await mongoose.createConnection(`${url}${uniqueName('db').replace(/-/g, '_')}`).asPromise();
  try {
    const Note = connection.model('Note', new mongoose.Schema({ text: String }));
    await Note.create({ text: 'hello' });
    return (await Note.findOne().lean())?.text;
  } finally {
    await connection.close();
  }
}

describe('FerretDB launcher', () => {
  it('serves the SQLite backend from a fresh folder', async () => {
    const server = await startFerretDB();
    started.push(server);
    expect(await roundTrip(server.url)).toBe('hello');
  });

  it('serves the PostgreSQL backend when asked', async () => {
    const postgresAnswers = await canConnect(5432);
    if (!postgresAnswers && process.env.CI !== 'true') {
      console.warn('PostgreSQL does not answer on 127.0.0.1:5432; the PostgreSQL backend is not exercised here');
      return;
    }
    const database = uniqueName('ferretdb').replace(/-/g, '_');
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `CREATE DATABASE ${database}`]);
    const server = await startFerretDB({ handler: 'postgresql', postgresqlUrl: `postgres://postgres@127.0.0.1:5432/${database}` });
    started.push(server);
    try {
      expect(await roundTrip(server.url)).toBe('hello');
    } finally {
      await server.stop();
      execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `DROP DATABASE ${database} WITH (FORCE)`]);
    }
  });
});

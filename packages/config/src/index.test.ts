import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'typebox';
import { ConfigError, describeConfig, loadConfig } from './index.js';

const schema = Type.Object({
  PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535, description: 'HTTP port' }),
  MONGODB_URI: Type.String({ minLength: 1, description: 'MongoDB connection string' }),
  DEBUG: Type.Boolean({ default: false }),
});

describe('loadConfig', () => {
  it('converts strings and applies defaults', () => {
    expect(loadConfig(schema, { MONGODB_URI: 'mongodb://x', DEBUG: 'true' })).toEqual({ PORT: 3000, MONGODB_URI: 'mongodb://x', DEBUG: true });
    expect(loadConfig(schema, { MONGODB_URI: 'mongodb://x', PORT: '8080' }).PORT).toBe(8080);
  });

  it('names every missing or malformed variable in words', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.some((p) => p.startsWith('MONGODB_URI is required (MongoDB connection string)'))).toBe(true);
    expect(problems.some((p) => p.startsWith('PORT '))).toBe(true);
    expect(message).toContain('invalid configuration');
  });

  describe('a setting read from the file named by <NAME>_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tmuxme-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, content: string) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    };

    it('takes the file\'s content without its final line break, converted like any value', () => {
      const pem = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----';
      const config = loadConfig(schema, { MONGODB_URI_FILE: file('uri', `${pem}\n`), PORT_FILE: file('port', '8080\r\n') });
      expect(config).toEqual({ PORT: 8080, MONGODB_URI: pem, DEBUG: false });
    });

    it('refuses a setting given both ways', () => {
      expect(() => loadConfig(schema, { MONGODB_URI: 'mongodb://x', MONGODB_URI_FILE: file('both', 'mongodb://y') }))
        .toThrow('MONGODB_URI and MONGODB_URI_FILE are both set: keep one');
    });

    it('says which file it could not read and why, once', () => {
      const missing = join(dir, 'missing');
      let error: ConfigError | undefined;
      try {
        loadConfig(schema, { MONGODB_URI_FILE: missing, PORT_FILE: dir });
      } catch (e) {
        error = e as ConfigError;
      }
      expect(error?.problems).toEqual([
        `PORT could not be read from PORT_FILE=${dir} (EISDIR)`,
        `MONGODB_URI could not be read from MONGODB_URI_FILE=${missing} (ENOENT)`,
      ]);
    });

    it('never repeats a file\'s content in an error, since it is usually a secret', () => {
      expect(() => loadConfig(schema, { MONGODB_URI: 'mongodb://x', PORT_FILE: file('token', 's3cret-token\n') })).toThrow(ConfigError);
      expect(() => loadConfig(schema, { MONGODB_URI: 'mongodb://x', PORT_FILE: file('token', 's3cret-token\n') })).not.toThrow('s3cret');
    });
  });

  it('describes its variables', () => {
    expect(describeConfig(schema)).toContainEqual({ name: 'PORT', description: 'HTTP port', default: 3000, required: false });
    expect(describeConfig(schema).find((v) => v.name === 'MONGODB_URI')?.required).toBe(true);
  });
});

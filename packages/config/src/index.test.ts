import { describe, expect, it } from '@jest/globals';
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

  it('describes its variables', () => {
    expect(describeConfig(schema)).toContainEqual({ name: 'PORT', description: 'HTTP port', default: 3000, required: false });
    expect(describeConfig(schema).find((v) => v.name === 'MONGODB_URI')?.required).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import { Type, type Static, type TObject } from 'typebox';
import { Value } from 'typebox/value';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Reads a service's settings from environment variables named by the schema's keys.
 * Every problem is reported at once, in words, so a misconfigured container says
 * what to fix instead of crashing later on an undefined value.
 *
 * Any setting may instead name a file holding its value in `<NAME>_FILE`, which is how
 * Docker and Kubernetes hand a container its secrets without putting them in its
 * environment; one trailing line break is dropped.
 */
export function loadConfig<S extends TObject>(schema: S, env: Record<string, string | undefined> = process.env): Static<S> {
  const raw: Record<string, unknown> = {};
  // Settings whose file could not be used, each reported once rather than also as missing.
  const fileProblems = new Map<string, string>();
  for (const name of Object.keys(schema.properties)) {
    const value = env[name];
    const file = env[`${name}_FILE`];
    if (file) {
      if (value) fileProblems.set(name, `${name} and ${name}_FILE are both set: keep one`);
      else readSettingFile(name, file, raw, fileProblems);
    } else if (value !== undefined && value !== '') {
      raw[name] = value;
    }
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults);
  if (fileProblems.size === 0 && Value.Check(schema, converted)) return converted as Static<S>;

  const problems = [...Value.Errors(schema, converted)].flatMap((error) => {
    const name = error.instancePath.replace(/^\//, '') || missingName(error.params);
    if (fileProblems.has(name)) return [];
    const property = schema.properties[name] as { description?: string } | undefined;
    const what = property?.description ? ` (${property.description})` : '';
    return [raw[name] === undefined ? `${name} is required${what}` : `${name} ${error.message}${what}`];
  });
  throw new ConfigError([...new Set([...fileProblems.values(), ...problems])]);
}

function readSettingFile(name: string, file: string, raw: Record<string, unknown>, problems: Map<string, string>): void {
  try {
    raw[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    // The reason (ENOENT, EACCES), never the content: the file is usually a secret.
    problems.set(name, `${name} could not be read from ${name}_FILE=${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

function missingName(params: unknown): string {
  const required = (params as { requiredProperties?: string[] } | undefined)?.requiredProperties;
  return required?.join(', ') ?? 'configuration';
}

/** The documentation of every variable a schema reads, for docs and `--help` output. */
export function describeConfig(schema: TObject): { name: string; description: string; default?: unknown; required: boolean }[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const p = property as { description?: string; default?: unknown };
    return { name, description: p.description ?? '', default: p.default, required: required.has(name) && p.default === undefined };
  });
}

/** The settings every HTTP service has, with its own default port. */
export function serverSettings(port: number) {
  return {
    HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
    PORT: Type.Integer({ default: port, minimum: 0, maximum: 65535, description: 'HTTP port' }),
    LOG_LEVEL: Type.String({ default: 'info', description: 'pino log level (trace, debug, info, warn, error)' }),
  };
}

/** The settings of a service that owns a database and talks on the bus. */
export function storageSettings(database: string) {
  return {
    MONGODB_URI: Type.String({ default: `mongodb://127.0.0.1:27017/${database}`, description: "URL of the service's own database" }),
    AMQP_URL: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672', description: 'RabbitMQ URL' }),
  };
}

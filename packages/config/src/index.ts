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
 */
export function loadConfig<S extends TObject>(schema: S, env: Record<string, string | undefined> = process.env): Static<S> {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(schema.properties)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults);
  if (Value.Check(schema, converted)) return converted as Static<S>;

  const problems = [...Value.Errors(schema, converted)].map((error) => {
    const name = error.instancePath.replace(/^\//, '') || missingName(error.params);
    const property = schema.properties[name] as { description?: string } | undefined;
    const what = property?.description ? ` (${property.description})` : '';
    return raw[name] === undefined ? `${name} is required${what}` : `${name} ${error.message}${what}`;
  });
  throw new ConfigError([...new Set(problems)]);
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

/**
 * compose.yaml and the Dockerfiles, read the way Docker reads them, for tests that check the
 * deployment without a Docker engine: services, settings, health checks and start commands.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const repositoryRoot = resolve(import.meta.dirname, '../..');

/** What the tests need of one Dockerfile stage. CMD, ENTRYPOINT and HEALTHCHECK must be exec form. */
export interface DockerStage {
  /** The image it starts from, or the earlier stage it builds on (whose settings and files it has). */
  from: string;
  name?: string;
  workdir?: string;
  env: Record<string, string>;
  user?: string;
  copies: { from?: string; sources: string[]; destination: string }[];
  runs: string[];
  expose: number[];
  healthcheck?: string[];
  cmd?: string[];
  entrypoint?: string[];
}

function execForm(instruction: string, json: string): string[] {
  try {
    const argv: unknown = JSON.parse(json);
    if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return argv;
  } catch { /* reported below */ }
  // Shell form runs under /bin/sh -c, which would take docker stop's SIGTERM instead of the service.
  throw new Error(`${instruction} must be in exec form (a JSON array of strings), not: ${json}`);
}

type Variables = Record<string, string | undefined>;

/**
 * `$NAME`, `${NAME}` and `${NAME:-default}` in an instruction, as Docker expands them. Strict (every
 * instruction Docker expands): a name without a value is an error, where Docker would make it empty,
 * as when a build argument is missing or a stage forgot its `ARG`. Not strict (RUN, expanded by the
 * shell at build time): names that are not build arguments or ENV are the shell's, and stay.
 */
function expand(text: string, variables: Variables, strict: string | undefined): string {
  return text.replace(/\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))/g, (match, braced?: string, fallback?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const value = variables[name] || fallback;
    if (value !== undefined) return value;
    if (strict) throw new Error(`${strict} needs ${name}, which has no value: a build argument (ARG ${name} in the stage, --build-arg ${name}=…)?`);
    return match;
  });
}

const cloneStage = (stage: DockerStage, from: string, name: string | undefined): DockerStage => ({
  ...structuredClone(stage), from, name,
});

/**
 * The stages of a Dockerfile, in order; the last one is the image. `buildArgs` are what
 * `--build-arg` (compose's build.args) gives: `ARG`s before the first FROM serve the FROM lines, a
 * stage sees those it declares again, and a stage built on an earlier one starts with all it has.
 */
export function parseDockerfile(file: string, buildArgs: Record<string, string> = {}): DockerStage[] {
  const lines = readFileSync(resolve(repositoryRoot, file), 'utf8').replace(/\\\n/g, ' ').split('\n');
  const stages: DockerStage[] = [];
  const given = Object.entries(buildArgs).map(([name, value]) => `${name}=${value}`).join(' ') || 'no build arguments';
  const globalArgs: Variables = {};
  let stageArgs: Variables = {};
  for (const line of lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))) {
    const [, keyword = '', text = ''] = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = keyword.toUpperCase();
    const stage = stages.at(-1);
    const where = `${file} (${given}): ${instruction}`;
    if (instruction === 'ARG') {
      const [, name, value] = /^(\w+)(?:=(.*))?$/.exec(text) ?? [];
      if (!name) throw new Error(`${where} ${text}: one ARG NAME[=default] a line, please`);
      const declared = buildArgs[name] ?? value?.replace(/^"(.*)"$/, '$1');
      if (stage) stageArgs[name] = declared ?? globalArgs[name];
      else globalArgs[name] = declared;
      continue;
    }
    if (instruction === 'FROM') {
      const [base = '', , name] = expand(text, globalArgs, where).split(/\s+/);
      const earlier = stages.find((s) => s.name === base);
      stages.push(earlier ? cloneStage(earlier, base, name) : { from: base, name, env: {}, copies: [], runs: [], expose: [] });
      stageArgs = {};
      continue;
    }
    if (!stage) throw new Error(`${file}: ${instruction} before FROM`);
    // ENV wins over an ARG of the same name. CMD, ENTRYPOINT and HEALTHCHECK are not expanded.
    const variables = { ...stageArgs, ...stage.env };
    const rest = ['CMD', 'ENTRYPOINT', 'HEALTHCHECK'].includes(instruction) ? text : expand(text, variables, instruction === 'RUN' ? undefined : where);
    if (instruction === 'WORKDIR') stage.workdir = rest;
    else if (instruction === 'USER') stage.user = rest;
    else if (instruction === 'RUN') stage.runs.push(rest);
    else if (instruction === 'EXPOSE') stage.expose.push(...rest.split(/\s+/).map((p) => Number.parseInt(p, 10)));
    else if (instruction === 'CMD') stage.cmd = execForm('CMD', rest);
    else if (instruction === 'ENTRYPOINT') stage.entrypoint = execForm('ENTRYPOINT', rest);
    else if (instruction === 'HEALTHCHECK') stage.healthcheck = execForm('HEALTHCHECK', rest.replace(/^(--\S+\s+)*CMD\s+/, ''));
    else if (instruction === 'ENV') {
      for (const [, name, value] of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) stage.env[name!] = value!.replace(/^"(.*)"$/, '$1');
    } else if (instruction === 'COPY') {
      const words = rest.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      stage.copies.push({ from, sources: paths.slice(0, -1), destination: paths.at(-1)! });
    }
  }
  return stages;
}

/** `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}` and `$$`, as compose interpolates them. */
export function interpolate(text: string, variables: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:?)([-?])([^}]*))?\}|\$(\w+)/g, (match, braced?: string, colon?: string, kind?: string, word?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = variables[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (!missing || !kind) return value ?? '';
    if (kind === '?') throw new Error(`compose.yaml needs ${name}: ${word}`);
    return word!;
  });
}

/** The names compose.yaml interpolates, i.e. what a deployment may set in .env. */
export function composeVariables(): string[] {
  const text = readFileSync(resolve(repositoryRoot, 'compose.yaml'), 'utf8');
  return [...new Set([...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]!))].sort();
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  command?: string[];
  environment: Record<string, string>;
  secrets: { source: string; target: string }[];
  volumes: { source: string; target: string; readOnly: boolean }[];
  dependsOn: Record<string, string>;
  healthcheck?: { test: string[] };
  ports: unknown[];
  containerName?: string;
  networkMode?: string;
  capDrop: string[];
  capAdd: string[];
}

export interface Compose {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
  volumes: string[];
}

type Raw = Record<string, unknown>;
const asRecord = (value: unknown): Raw => (value ?? {}) as Raw;
const asList = <T>(value: unknown): T[] => (value ?? []) as T[];

function interpolateAll(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, variables);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, variables));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, variables)]));
  return value;
}

/** environment and build.args, which compose takes as a map or as a list of NAME=value. */
const keyValues = (value: unknown): Record<string, string> => (Array.isArray(value)
  ? Object.fromEntries((value as string[]).map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]))
  : Object.fromEntries(Object.entries(asRecord(value)).map(([k, v]) => [k, String(v ?? '')])));

function normalize(raw: Raw): ComposeService {
  const environment = keyValues(raw.environment);
  const dependsOn = Array.isArray(raw.depends_on)
    ? Object.fromEntries((raw.depends_on as string[]).map((name) => [name, 'service_started']))
    : Object.fromEntries(Object.entries(asRecord(raw.depends_on)).map(([name, v]) => [name, String(asRecord(v).condition ?? 'service_started')]));
  const secrets = asList<string | Raw>(raw.secrets).map((s) => {
    const { source, target } = typeof s === 'string' ? { source: s, target: undefined } : { source: String(s.source), target: s.target as string | undefined };
    return { source, target: target?.startsWith('/') ? target : `/run/secrets/${target ?? source}` };
  });
  const volumes = asList<string>(raw.volumes).map((v) => {
    const [source = '', target = '', mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
  const build = raw.build as (Omit<NonNullable<ComposeService['build']>, 'args'> & { args?: string[] | Raw }) | undefined;
  return {
    image: raw.image as string | undefined,
    build: build && { context: build.context, dockerfile: build.dockerfile ?? 'Dockerfile', args: keyValues(build.args) },
    command: raw.command as string[] | undefined,
    environment,
    secrets,
    volumes,
    dependsOn,
    healthcheck: raw.healthcheck as ComposeService['healthcheck'],
    ports: asList(raw.ports),
    containerName: raw.container_name as string | undefined,
    networkMode: raw.network_mode as string | undefined,
    capDrop: asList(raw.cap_drop),
    capAdd: asList(raw.cap_add),
  };
}

/** compose.yaml with its YAML merge keys applied and `${…}` interpolated from `variables` (like .env). */
export function loadCompose(variables: Record<string, string> = {}): Compose {
  const raw = interpolateAll(parse(readFileSync(resolve(repositoryRoot, 'compose.yaml'), 'utf8'), { merge: true }), variables) as Raw;
  return {
    services: Object.fromEntries(Object.entries(asRecord(raw.services)).map(([name, service]) => [name, normalize(asRecord(service))])),
    secrets: asRecord(raw.secrets) as Compose['secrets'],
    volumes: Object.keys(asRecord(raw.volumes)),
  };
}

/** The stages of the Dockerfile a compose service builds, with the build arguments compose gives it. */
export function stagesOf(service: ComposeService): DockerStage[] {
  if (!service.build) throw new Error(`not built here (image ${service.image})`);
  return parseDockerfile(join(service.build.context, service.build.dockerfile), service.build.args);
}

/** The image a compose service builds: its Dockerfile's last stage, with all it has from the stages it builds on. */
export function imageOf(service: ComposeService): DockerStage {
  return stagesOf(service).at(-1)!;
}

/** What the service's process sees: the image's ENV (of an image built here), then compose's environment over it. */
export function environmentOf(service: ComposeService): Record<string, string> {
  return { ...(service.build ? imageOf(service).env : {}), ...service.environment };
}

/** The repository folder of a Node service, from the image's command (`node … services/<name>/src/main.ts`). */
export function serviceFolderOf(service: ComposeService): string | undefined {
  const command = [...(imageOf(service).entrypoint ?? []), ...(imageOf(service).cmd ?? [])];
  return command.map((arg) => /^(services\/[^/]+)\/src\/main\.ts$/.exec(arg)?.[1]).find(Boolean);
}

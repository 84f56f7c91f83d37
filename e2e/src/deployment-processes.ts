/**
 * Runs what compose.yaml would run, without Docker: each image's own start command as a process of
 * this machine, with compose's settings pointed at the test's servers instead of compose's hosts.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { uniqueName } from '@tmuxme/testing';
import { environmentOf, imageOf, repositoryRoot, type Compose } from './deployment.js';
import { startProcess, type ServiceProcess } from './service-process.js';

/** What stands in for compose's own hosts and volumes here. */
export interface LocalDeployment {
  compose: Compose;
  /** The test's database server; each service gets a database of its own on it. */
  mongoUrl: string;
  amqpUrl: string;
  smtpUrl: string;
  /** The port each service started here listens on, by compose service name. */
  ports: Record<string, number>;
  /** A folder of this machine for each compose volume. */
  volumes: Record<string, string>;
  /** Where infra/docker/secrets.sh made the secrets. */
  secretsDir: string;
  /** Where adapted copies of secrets go. */
  scratchDir: string;
  /** Each service's environment, made once so its process and its health check see the same. */
  environments: Map<string, Record<string, string>>;
}

/** compose's hosts, as the services reach them here. */
function localUrl(url: URL, local: LocalDeployment): string {
  const host = url.hostname;
  if (host === 'mongo') {
    const database = new URL(local.mongoUrl);
    database.pathname = `/${uniqueName(url.pathname.slice(1)).replace(/-/g, '_')}`;
    return database.toString();
  }
  if (host === 'rabbitmq') return local.amqpUrl;
  if (host === 'mailpit') return local.smtpUrl;
  const port = local.ports[host];
  if (port === undefined) throw new Error(`compose host ${host} has no local stand-in`);
  return `${url.protocol}//127.0.0.1:${port}${url.pathname === '/' ? '' : url.pathname}`;
}

const composeUrl = (value: string, compose: Compose): URL | undefined => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  return url && url.hostname in compose.services ? url : undefined;
};

/** The hosts of compose's network a service talks to, by its settings and the secrets they name. */
export function composeHostsOf(service: string, compose: Compose, secretsDir: string): string[] {
  return Object.values(environmentOf(compose.services[service]!)).flatMap((value) => {
    const secret = secretFileFor(service, value, compose, secretsDir);
    const url = composeUrl(secret ? readFileSync(secret, 'utf8').trim() : value, compose);
    return url ? [url.hostname] : [];
  });
}

/** The secret a service sees at `path`, as the file secrets.sh made; undefined for any other path. */
export function secretFileFor(service: string, path: string, compose: Compose, secretsDir: string): string | undefined {
  const mounted = compose.services[service]!.secrets.find((s) => s.target === path);
  const defined = mounted && compose.secrets[mounted.source];
  return defined ? join(secretsDir, basename(defined.file)) : undefined;
}

/** compose's environment for a service, adapted to this machine: ports, listen address, hosts, secrets and volumes. */
export function localEnvironment(service: string, local: LocalDeployment): Record<string, string> {
  const made = local.environments.get(service);
  if (made) return made;
  const { compose } = local;
  const definition = compose.services[service]!;
  const adapt = (value: string): string => {
    // Inside a container every address is its own; here the machine is shared.
    if (value === '0.0.0.0') return '127.0.0.1';
    const url = composeUrl(value, compose);
    if (url) return localUrl(url, local);
    // `service:port` without a scheme (tunnel-sync's SSHD_ADDRESS), which URL would read as a scheme.
    const hostPort = /^([a-z0-9][a-z0-9-]*):(\d+)$/.exec(value);
    if (hostPort && hostPort[1]! in compose.services) return `127.0.0.1:${local.ports[hostPort[1]!] ?? hostPort[2]}`;
    const secret = secretFileFor(service, value, compose, local.secretsDir);
    if (secret) {
      const content = readFileSync(secret, 'utf8');
      const adapted = adapt(content.trim());
      if (adapted === content.trim()) return secret;
      const copy = join(local.scratchDir, `${service}-${basename(secret)}`);
      writeFileSync(copy, `${adapted}\n`, { mode: 0o600 });
      return copy;
    }
    const volume = definition.volumes.find((v) => value === v.target || value.startsWith(`${v.target}/`));
    if (volume) return join(local.volumes[volume.source]!, relative(volume.target, value));
    return value;
  };
  const environment = Object.fromEntries(Object.entries(environmentOf(definition)).map(([name, value]) => [name, adapt(value)]));
  if ('PORT' in environment) environment.PORT = String(local.ports[service]);
  local.environments.set(service, environment);
  return environment;
}

/** The services to start, level by level: each after everything it depends on (that runs here) is healthy. */
export function startLevels(compose: Compose, run: string[]): string[][] {
  const levels: string[][] = [];
  const started = new Set<string>();
  while (started.size < run.length) {
    const level = run.filter((name) => !started.has(name)
      && Object.keys(compose.services[name]!.dependsOn).every((dependency) => started.has(dependency) || !run.includes(dependency)));
    if (level.length === 0) throw new Error(`depends_on has a cycle among ${run.filter((n) => !started.has(n)).join(', ')}`);
    level.forEach((name) => started.add(name));
    levels.push(level);
  }
  return levels;
}

/** An image's start command, run from the repository root, which is where the image has it (WORKDIR /app). */
export function startImageCommand(service: string, local: LocalDeployment): ServiceProcess {
  const image = imageOf(local.compose.services[service]!);
  if (image.workdir !== '/app') throw new Error(`${service}: the image's WORKDIR must be /app, where the repository's files are`);
  const [command, ...args] = [...(image.entrypoint ?? []), ...(image.cmd ?? [])];
  if (!command) throw new Error(`${service}: the image has no CMD`);
  return startProcess(service, command, args, localEnvironment(service, local));
}

/** Runs the image's HEALTHCHECK command here, with the service's local environment; resolves with its exit code. */
export function runHealthcheck(service: string, local: LocalDeployment): Promise<number> {
  const definition = local.compose.services[service]!;
  const [command, ...args] = definition.healthcheck?.test.slice(1) ?? imageOf(definition).healthcheck ?? [];
  if (!command) throw new Error(`${service} has no health check`);
  return new Promise((done) => {
    execFile(command, args, { cwd: repositoryRoot, env: { PATH: process.env.PATH!, ...localEnvironment(service, local) }, timeout: 10_000 }, (error) => {
      done(error ? (typeof error.code === 'number' ? error.code : 1) : 0);
    });
  });
}

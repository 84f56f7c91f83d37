import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describeConfig } from '@tmuxme/config';
import { eventually, freePort, generateSshKey, MailCatcher, openReverseTunnel, testAmqpUrl, uniqueName } from '@tmuxme/testing';
import { configSchemaOf, environmentSection, operationsDoc, withSection } from '../../infra/docs/operations-env.js';
import { composeVariables, environmentOf, imageOf, loadCompose, repositoryRoot as root, serviceFolderOf, stagesOf } from '../src/deployment.js';
import { composeHostsOf, runHealthcheck, secretFileFor, startImageCommand, startLevels, type LocalDeployment } from '../src/deployment-processes.js';
import { ApiClient, type ServiceProcess } from '../src/index.js';

/**
 * compose.yaml and the images, checked without a Docker engine: what compose builds exists, every
 * setting a service needs is given and every one given is read, health checks and start order, and
 * that the stateless services can scale; then each image's start command, run here as a process.
 */
const compose = loadCompose();
const services = Object.entries(compose.services);
const built = services.filter(([, service]) => service.build);
/** [compose name, service folder] of every Node service compose runs. */
const nodeServices = built.flatMap(([name, service]) => {
  const folder = serviceFolderOf(service);
  return folder ? [[name, folder] as const] : [];
});
const manifest = (folder: string) => JSON.parse(readFileSync(resolve(root, folder, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
/** The root ('') and every workspace folder, as npm ci sees them. */
const workspaceFolders = Object.keys(lock.packages).filter((path) => !path.includes('node_modules'));
const folderOf = new Map(workspaceFolders.filter(Boolean).map((folder) => [manifest(folder).name as string, folder]));

/** The workspace packages a folder needs at run time, following production dependencies only. */
function productionWorkspaces(folder: string, found = new Set<string>()): Set<string> {
  for (const dependency of Object.keys(manifest(folder).dependencies ?? {})) {
    const workspace = folderOf.get(dependency);
    if (workspace && !found.has(workspace)) {
      found.add(workspace);
      productionWorkspaces(workspace, found);
    }
  }
  return found;
}

// Not under /tmp: sshd's StrictModes wants every folder above authorized_keys root-owned and not world-writable.
const boxesRoot = '/var/lib/tmuxme-test/boxes';
let secretsDir: string;
beforeAll(() => {
  secretsDir = mkdtempSync(join(tmpdir(), 'tmuxme-secrets-'));
  execFileSync('bash', [resolve(root, 'infra/docker/secrets.sh'), secretsDir]);
});
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

describe('compose.yaml', () => {
  it('runs every service of the repository and a tunnel box, the services built from one Dockerfile there', () => {
    for (const [name, { build }] of built) {
      expect([name, existsSync(resolve(root, build!.context))]).toEqual([name, true]);
      expect([name, existsSync(resolve(root, build!.context, build!.dockerfile))]).toEqual([name, true]);
    }
    const folders = readdirSync(resolve(root, 'services')).map((name) => `services/${name}`).sort();
    expect(nodeServices.map(([, folder]) => folder).sort()).toEqual(folders);
    // Named as their folders, since the services reach each other by these names.
    for (const [name, folder] of nodeServices) expect(basename(folder)).toBe(name);
    // One Dockerfile for them all, told which service by SERVICE; no copy of it left in a service's folder.
    expect(new Set(nodeServices.map(([name]) => compose.services[name]!.build!.dockerfile)).size).toBe(1);
    for (const [name, folder] of nodeServices) {
      expect([name, compose.services[name]!.build!.args]).toEqual([name, { SERVICE: basename(folder) }]);
      expect([name, existsSync(resolve(root, folder, 'Dockerfile'))]).toEqual([name, false]);
    }
    expect(imageOf(compose.services['tunnel-box']!).cmd).toEqual(['bash', 'infra/tunnel-box/setup.sh', 'foreground']);
    for (const [name, { image }] of services.filter(([, s]) => s.image)) expect([name, image]).toEqual([name, expect.stringMatching(/:v?\d[\w.-]*$/)]);
  });

  it('builds each service image in stages, with production dependencies only, as a non-root user', () => {
    for (const [name, folder] of nodeServices) {
      const stages = stagesOf(compose.services[name]!);
      const image = stages.at(-1)!;
      const modules = image.copies.find((copy) => copy.destination === './node_modules')!;
      const installer = stages.find((stage) => stage.name === modules.from)!;
      expect([name, installer.runs]).toEqual([name, [expect.stringMatching(new RegExp(`^npm ci --omit=dev .*--workspace ${folder}$`))]]);
      const sources = image.copies.filter((copy) => !copy.from).flatMap((copy) => copy.sources).filter((source) => !source.startsWith('tsconfig'));
      expect([name, sources.sort()]).toEqual([name, [...productionWorkspaces(folder), folder].sort()]);
      // Installed under a workspace's own node_modules, a package would miss the image.
      expect(Object.keys(lock.packages).filter((path) => sources.some((source) => path.startsWith(`${source}/node_modules/`)))).toEqual([]);
      for (const [flag, module] of (image.cmd ?? []).map((arg, i, cmd) => [arg, cmd[i + 1]])) {
        if (flag === '--import') expect([name, manifest(folder).dependencies]).toEqual([name, expect.objectContaining({ [module!]: expect.any(String) })]);
      }
      expect([name, image.healthcheck?.length ?? 0]).not.toEqual([name, 0]);
      // tunnel-sync gives authorized_keys to root, which only root may; compose leaves it that power alone.
      if (name === 'tunnel-sync') {
        expect(image.user).toBe('root');
        expect(compose.services[name]).toMatchObject({ capDrop: ['ALL'], capAdd: ['CHOWN'] });
      } else {
        expect([name, image.user]).toEqual([name, 'node']);
      }
    }
    // Only the gateway's image has the pages, so only its build runs Vite.
    expect(imageOf(compose.services['gateway']!).copies).toContainEqual({ from: 'web', sources: ['/app/web/dist'], destination: './web/dist' });
    expect(nodeServices.filter(([name]) => imageOf(compose.services[name]!).copies.some((copy) => copy.from === 'web')).map(([name]) => name)).toEqual(['gateway']);
  });

  it('has a lockfile that agrees with every workspace manifest, as npm ci in each image demands', () => {
    const sorted = (record: unknown) => JSON.stringify(Object.entries(record ?? {}).sort());
    const stale = workspaceFolders.flatMap((folder) => ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']
      .filter((kind) => sorted(manifest(folder || '.')[kind]) !== sorted(lock.packages[folder]![kind])).map((kind) => `${folder || '(root)'} ${kind}`));
    // `npm install` brings the lockfile up to date.
    expect(stale).toEqual([]);
  });

  it('gives the tunnel group the same id in the box and in tunnel-sync, which share authorized_keys', () => {
    const groupId = (service: string) => imageOf(compose.services[service]!).runs.join(' ').match(/groupadd --system --gid (\d+) tunnel/)?.[1];
    expect(groupId('tunnel-box')).toMatch(/^\d+$/);
    expect(groupId('tunnel-sync')).toBe(groupId('tunnel-box'));
    const mount = (service: string) => compose.services[service]!.volumes.find((v) => v.source === 'tunnel-box');
    expect(mount('tunnel-sync')).toEqual({ ...mount('tunnel-box'), readOnly: false });
    expect(environmentOf(compose.services['tunnel-sync']!).AUTHORIZED_KEYS_FILE).toBe(`${environmentOf(compose.services['tunnel-box']!).TUNNEL_BOX_DIR}/authorized_keys`);
  });

  it('sets every setting a service requires, and only settings it reads', async () => {
    for (const [name, folder] of nodeServices) {
      const schema = await configSchemaOf(basename(folder));
      const environment = environmentOf(compose.services[name]!);
      const given = (variable: string) => Boolean(environment[variable] || environment[`${variable}_FILE`]);
      const read = (variable: string) => variable in schema.properties || (variable.endsWith('_FILE') && variable.slice(0, -'_FILE'.length) in schema.properties);
      expect([name, Object.keys(environment).filter((variable) => !read(variable))]).toEqual([name, []]);
      expect([name, describeConfig(schema).filter((v) => v.required && !given(v.name)).map((v) => v.name)]).toEqual([name, []]);
      // A file that holds a setting is a secret the service mounts, or lies in a volume it mounts.
      for (const [variable, path] of Object.entries(environment).filter(([variable]) => !(variable in schema.properties))) {
        const mounted = secretFileFor(name, path, compose, secretsDir) ?? compose.services[name]!.volumes.find((v) => path.startsWith(`${v.target}/`))?.source;
        expect([name, variable, mounted]).toEqual([name, variable, expect.any(String)]);
      }
    }
    const setupScript = readFileSync(resolve(root, 'infra/tunnel-box/setup.sh'), 'utf8');
    const boxVariables = [...setupScript.matchAll(/\$\{(TUNNEL_BOX_\w+):-/g)].map((m) => m[1]);
    expect(Object.keys(environmentOf(compose.services['tunnel-box']!)).filter((v) => !boxVariables.includes(v))).toEqual([]);
  });

  it('hands out only secrets that infra/docker/secrets.sh makes, each to a service that uses it', () => {
    const made = readdirSync(secretsDir).sort();
    expect(Object.values(compose.secrets).map(({ file }) => basename(file)).sort()).toEqual(made);
    for (const { file } of Object.values(compose.secrets)) expect(file).toMatch(/^\.local\/secrets\//);
    const mounted = new Set(services.flatMap(([, service]) => service.secrets.map((s) => s.source)));
    expect([...mounted].sort()).toEqual(Object.keys(compose.secrets).sort());
    expect(readFileSync(join(secretsDir, 'jwt_private_key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(secretsDir).mode & 0o777).toBe(0o700);
  });

  it('checks health on a real endpoint of each service, on the port it listens on', () => {
    for (const [name] of nodeServices) {
      const service = compose.services[name]!;
      const check = (service.healthcheck?.test.slice(1) ?? imageOf(service).healthcheck!).join(' ');
      expect([name, check]).toEqual([name, expect.stringMatching(/'http:\/\/127\.0\.0\.1:' \+ process\.env\.PORT \+ '\/(healthz|readyz)'/)]);
      const port = environmentOf(service).PORT;
      expect([name, imageOf(service).expose.map(String)]).toEqual([name, [port]]);
    }
    // Whoever calls a service by its compose name uses the port it listens on.
    for (const [name, service] of services.filter(([, s]) => s.build)) {
      for (const value of Object.values(environmentOf(service))) {
        const url = URL.canParse(value) ? new URL(value) : undefined;
        const target = url && compose.services[url.hostname]?.build ? compose.services[url.hostname]! : undefined;
        if (target) expect([name, value, url!.port]).toEqual([name, value, environmentOf(target).PORT]);
      }
    }
    for (const [name, service] of services.filter(([, s]) => !s.build)) expect([name, service.healthcheck?.test[0]]).toEqual([name, 'CMD']);
  });

  it('starts each service once what it depends on and talks to is healthy', () => {
    const hasHealthcheck = (name: string) => Boolean(compose.services[name]!.healthcheck ?? (compose.services[name]!.build && imageOf(compose.services[name]!).healthcheck));
    for (const [name, service] of services) {
      for (const [dependency, condition] of Object.entries(service.dependsOn)) {
        expect([name, dependency, condition, hasHealthcheck(dependency)]).toEqual([name, dependency, 'service_healthy', true]);
      }
      const talksTo = composeHostsOf(name, compose, secretsDir).filter((host) => host !== name);
      expect([name, talksTo.filter((host) => !(host in service.dependsOn))]).toEqual([name, []]);
    }
    // Boxes announce themselves: sessions waits for none.
    expect(compose.services['sessions']!.dependsOn).not.toHaveProperty('tunnel-box');
  });

  it('lets the stateless services scale: no host port, no fixed name', () => {
    expect(services.filter(([, s]) => s.containerName).map(([name]) => name)).toEqual([]);
    const publishing = services.filter(([, s]) => s.ports.length > 0 || s.networkMode === 'host').map(([name]) => name).sort();
    expect(publishing).toEqual(['gateway', 'mailpit', 'rabbitmq', 'tunnel-box']);
    // Pages for the operator only: on the host's loopback.
    for (const name of ['mailpit', 'rabbitmq']) expect(compose.services[name]!.ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:/)]);
    // Each box has a queue of its own, named after its BOX_ID (by default its host name); sessions configures no box.
    const named = loadCompose({ TUNNEL_HOST: 'box-2.example.org', BOX_ID: 'box-2' });
    expect(environmentOf(named.services['tunnel-sync']!)).toMatchObject({ TUNNEL_HOST: 'box-2.example.org', BOX_ID: 'box-2' });
    expect(environmentOf(compose.services['tunnel-sync']!).BOX_ID).toBe('');
    expect(Object.keys(environmentOf(named.services['sessions']!)).filter((name) => name.startsWith('TUNNEL_'))).toEqual([]);
  });
});

describe('docs/operations.md', () => {
  it('has the environment tables the config schemas make (npm run docs:operations)', async () => {
    const document = readFileSync(operationsDoc, 'utf8');
    expect(withSection(document, await environmentSection())).toBe(document);
  });

  it('documents every variable compose.yaml reads from .env', () => {
    const document = readFileSync(operationsDoc, 'utf8');
    expect(composeVariables().filter((variable) => !document.includes(`\`${variable}\``))).toEqual([]);
  });
});

describe("the images' start commands, run here as plain processes with compose's settings", () => {
  const run = ['tunnel-box', ...nodeServices.map(([name]) => name)];
  const started = new Map<string, ServiceProcess>();
  let local: LocalDeployment;
  let mail: MailCatcher;

  beforeAll(async () => {
    // As in compose: the box's sshd and tunnel-sync (which chowns authorized_keys to root) run as root.
    if (process.getuid?.() !== 0) throw new Error('the tunnel box image starts sshd and tunnel-sync chowns to root: run this test as root');
    mail = await MailCatcher.start();
    const ports = Object.fromEntries(await Promise.all(run.map(async (name) => [name, await freePort()] as const)));
    mkdirSync(boxesRoot, { recursive: true, mode: 0o755 });
    local = {
      // The box's sshd port is compose's TUNNEL_PORT, which sessions hands out too.
      compose: loadCompose({ TUNNEL_PORT: String(ports['tunnel-box']) }),
      mongoUrl: process.env.TEST_MONGODB_URL!,
      amqpUrl: testAmqpUrl(),
      smtpUrl: mail.url,
      ports,
      volumes: { 'tunnel-box': join(boxesRoot, uniqueName('compose')) },
      secretsDir,
      scratchDir: mkdtempSync(join(tmpdir(), 'tmuxme-compose-')),
      environments: new Map(),
    };
    for (const level of startLevels(local.compose, run)) {
      await Promise.all(level.map(async (name) => {
        const service = startImageCommand(name, local);
        started.set(name, service);
        const crashed = service.exited.then((code) => Promise.reject(new Error(`it exited with code ${code}`)));
        crashed.catch(() => {});
        await Promise.race([eventually(async () => (await runHealthcheck(name, local)) === 0, 45_000), crashed])
          .catch((error) => fail(name, service, error));
      }));
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all([...started.values()].map((service) => service.stop('SIGKILL')));
    await mail?.stop();
    for (const dir of [local?.volumes['tunnel-box'], local?.scratchDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const fail = (name: string, service: ServiceProcess, error: unknown): never => {
    throw new Error(`${name} did not become healthy (${String(error)}):\n${service.output().slice(-3000)}`);
  };

  it('passes its own health check, which fails while nothing listens', async () => {
    for (const name of run) expect([name, await runHealthcheck(name, local)]).toEqual([name, 0]);
    for (const [name] of nodeServices) expect([name, (await fetch(`http://127.0.0.1:${local.ports[name]}/healthz`)).status]).toEqual([name, 200]);
    const idle = { ...local, ports: { ...local.ports, keys: await freePort() }, environments: new Map() };
    expect(await runHealthcheck('keys', idle)).not.toBe(0);
  });

  it('works as one system: secrets.sh\'s keys sign and check tokens, the box takes the key tunnel-sync wrote, invitations go out', async () => {
    const api = new ApiClient(`http://127.0.0.1:${local.ports.gateway}`);
    const { user: hana } = await api.signup(uniqueName('hana'));
    const key = await generateSshKey('ed25519');
    expect((await hana.request('POST', '/api/v1/user/keys', { title: 'laptop', key: key.publicKey })).status).toBe(201);
    // The box is in rotation once its tunnel-sync's first heartbeat reached sessions.
    const lease = (await eventually(async () => {
      const answer = await hana.request('GET', '/api/v1/pairing/port');
      return answer.status === 200 ? answer : undefined;
    }, 30_000))!;
    const boxDir = local.volumes['tunnel-box']!;
    const hostKey = readFileSync(join(boxDir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    expect(lease.json).toMatchObject({ boxId: '127.0.0.1', tunnelHost: '127.0.0.1', tunnelPort: local.ports['tunnel-box'], tunnelHostKey: hostKey });
    const authorizedKeys = join(boxDir, 'authorized_keys');
    await eventually(() => readFileSync(authorizedKeys, 'utf8').includes(`permitlisten="${lease.json.port}"`), 20_000);
    const { uid, gid, mode } = statSync(authorizedKeys);
    expect({ uid, gid: String(gid), mode: mode & 0o777 }).toEqual({ uid: 0, gid: execFileSync('getent', ['group', 'tunnel'], { encoding: 'utf8' }).split(':')[2], mode: 0o640 });

    const keyFile = join(local.scratchDir, 'id_ed25519');
    writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
    const box = { host: '127.0.0.1' as const, port: local.ports['tunnel-box']!, hostPublicKey: hostKey, dir: boxDir, authorizedKeysFile: authorizedKeys,
      privateAuthorizedKeysFile: join(boxDir, 'private_authorized_keys'), joinAuthorizedKeysFile: join(boxDir, 'join_authorized_keys'), hostKeyFingerprint: '', stop: async () => {} };
    const tunnel = await openReverseTunnel({ box, privateKeyPath: keyFile, remotePort: lease.json.port, target: { host: '127.0.0.1', port: local.ports.gateway! } });
    expect((await fetch(`http://127.0.0.1:${lease.json.port}/healthz`)).status).toBe(200);
    await tunnel.close();

    // The notifier mails the invitation through compose's SMTP_URL, here the test's mail catcher.
    const bob = uniqueName('bob');
    await api.signup(bob);
    await eventually(async () => (await hana.request('POST', '/api/v1/pairing/sessions', { port: lease.json.port, guests: [bob] })).status === 201, 20_000);
    expect((await mail.waitFor(1, 20_000))[0]!.envelope.to).toEqual([`${bob}@example.com`]);
  });

  it('stops cleanly on SIGTERM, as docker stop asks', async () => {
    for (const level of startLevels(local.compose, run).reverse()) {
      const codes = await Promise.all(level.map(async (name) => [name, await started.get(name)!.stop('SIGTERM')]));
      expect(codes).toEqual(level.map((name) => [name, 0]));
    }
  });
});

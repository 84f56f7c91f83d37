import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testAmqpUrl, testMongoUrl } from '@tmuxme/testing';
import { joinCommandInMail, PairingWorld, Terminal, type Person } from '../src/index.js';

/**
 * What a user gets from `npm install -g @tmuxme/cli`: the package is packed as npm would publish it
 * (prepack builds it) and installed from the tarball into an empty prefix outside the monorepo, with
 * install scripts off, as a machine with no compiler would have to; nothing resolves from the workspace's
 * node_modules. Its `tmuxme` is run, and hosts a session that a guest joins, so that a file missing from
 * `files`, a dependency left in devDependencies or a package that must be compiled shows up here.
 */
const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../cli');

interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Result> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.once('error', fail);
    child.once('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

function describeFailure(what: string, result: Result): string {
  return `${what} exited with ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/**
 * Our own environment minus what would steer the nested npm: when Jest runs under `npm test`, npm
 * exports its settings (workspace, prefix, the command being run…) as npm_* variables. Only the ones
 * that say how to reach the registry are kept, and the package cache, so that the throwaway HOME does
 * not mean downloading everything again. NODE_OPTIONS carries Jest's --experimental-vm-modules.
 */
function npmEnvironment(home: string): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|userconfig|globalconfig|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|fetch_.+|.+:registry)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
    name !== 'NODE_OPTIONS' && !/^(TMUXME_|XDG_)/.test(name) && (!/^npm_/i.test(name) || keep.test(name))));
  return { ...env, HOME: home, npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm') };
}

let work: string;
let packageDir: string;
let packedFiles: string[];
let tmuxme: string;
let cliEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-package-'));
  const home = join(work, 'home');
  await mkdir(home);
  const env = npmEnvironment(home);

  const pack = await run('npm', ['pack', '--json', '--ignore-scripts=false', '--pack-destination', work], { cwd: cliDir, env, timeoutMs: 60_000 });
  if (pack.code !== 0) throw new Error(describeFailure('npm pack', pack));
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed!.files.map((file) => file.path);

  const prefix = join(work, 'prefix');
  const install = await run('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', join(work, packed!.filename)],
    { cwd: work, env, timeoutMs: 115_000 });
  if (install.code !== 0) throw new Error(describeFailure('npm install', install));
  tmuxme = join(prefix, 'bin', 'tmuxme');
  packageDir = join(prefix, 'lib', 'node_modules', '@tmuxme', 'cli');
  cliEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !/^npm_/i.test(name)));
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const runTmuxme = (...args: string[]) => run(tmuxme, args, { cwd: work, env: cliEnv, timeoutMs: 20_000 });

describe('the npm package', () => {
  it('holds the compiled dist/ and the README, and no sources or tests', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/bin/tmuxme.js']));
    const unexpected = packedFiles.filter((path) => !/^(package\.json|README\.md|LICENSE)$/.test(path) && !/^dist\/.+\.js$/.test(path));
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((path) => /(^|\/)(src|test)\/|\.test\.|\.tsx?$/.test(path))).toEqual([]);
  });

  it('installs a bin that keeps its shebang and is executable', async () => {
    const bin = join(packageDir, 'dist', 'bin', 'tmuxme.js');
    expect((await readFile(bin, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
    await expect(access(tmuxme, constants.X_OK)).resolves.toBeUndefined();
    expect((await stat(bin)).mode & 0o111).not.toBe(0);
  });

  it('imports only its own files (with .js extensions), Node built-ins and its dependencies', async () => {
    const manifest = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const allowed = new Set(Object.keys(manifest.dependencies ?? {}));
    const files = (await readdir(join(packageDir, 'dist'), { recursive: true })).filter((name) => name.endsWith('.js'));
    expect(files.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const name of files) {
      const file = join(packageDir, 'dist', name);
      const source = await readFile(file, 'utf8');
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((match) => match[1]!);
      for (const specifier of specifiers) {
        const where = `${relative(packageDir, file)}: "${specifier}"`;
        if (specifier.startsWith('.')) {
          if (!specifier.endsWith('.js')) problems.push(`${where} has no .js extension`);
          else if (!await access(resolve(dirname(file), specifier)).then(() => true, () => false)) problems.push(`${where} does not exist`);
        } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) {
          const parts = specifier.split('/');
          const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
          if (!allowed.has(packageName)) problems.push(`${where} is not a dependency`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the installed tmuxme', () => {
  it.each(['--version', '-V'])('prints the package\'s version with %s', async (flag) => {
    const { version } = JSON.parse(await readFile(join(cliDir, 'package.json'), 'utf8')) as { version: string };
    const result = await runTmuxme(flag);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('lists every command in --help', async () => {
    const result = await runTmuxme('--help');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: tmuxme <command> [options]');
    for (const command of ['host', 'signup', 'login', 'logout', 'keys', 'sessions', 'join']) {
      expect(result.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
    }
  });

  it('prints a command\'s own usage with <command> --help', async () => {
    const result = await runTmuxme('keys', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: tmuxme keys');
    expect(result.stdout).toContain('--server <url>');
  });

  it('refuses an unknown flag with a message and the usage', async () => {
    const result = await runTmuxme('--no-such-flag');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unknown option '--no-such-flag'/i);
    expect(result.stderr).toContain('Usage: tmuxme');
  });
});

/** The installed copy, as a host runs it: the embedded SSH server and its pty come from the installed dependencies. */
describe('hosting with the installed tmuxme', () => {
  let world: PairingWorld;
  let hana: Person;
  let alice: Person;
  const terminals: Terminal[] = [];

  beforeAll(async () => {
    world = await PairingWorld.start({ hostSshd: false, subnets: [84, 85, 86], servers: { mongoUrl: testMongoUrl('npm-package'), amqpUrl: testAmqpUrl() } });
    [hana, alice] = [await world.signUp('hana'), await world.signUp('alice')];
  }, 120_000);
  afterAll(async () => {
    await Promise.all(terminals.map((t) => t.close()));
    await world?.stop();
  });

  it('a guest joins with the mailed command and types into the host\'s session', async () => {
    const host = await Terminal.open(world.host, join(world.dir, 'host.tmux'),
      world.cliCommand(hana, '--no-tui alice', tmuxme), world.cliEnvironment(hana, world.host));
    terminals.push(host);
    const command = joinCommandInMail((await world.invitationFor('alice', 60_000)).text, alice);
    const guest = await Terminal.open(world.guest, join(world.dir, 'alice.tmux'), command, { PATH: process.env.PATH!, HOME: alice.home, TERM: 'xterm-256color' });
    terminals.push(guest);
    await guest.waitFor(/tmux\.me: joined as alice/);
    await guest.type('echo typed-through-the-package-$((6*7))');
    await host.waitFor(/typed-through-the-package-42/);
  }, 90_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a user gets from `npm install -g @tmuxme/cli`: the package is packed as npm would publish it
 * (prepack builds it), installed from the tarball into an empty directory outside the monorepo, so
 * nothing resolves from the workspace's node_modules, and its `tmuxme` bin is run.
 */
const cliDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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
 * that say how to reach the registry are kept. NODE_OPTIONS carries Jest's --experimental-vm-modules.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|fetch_.+|.+:registry)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && (!/^npm_/i.test(name) || keep.test(name))));
}

let work: string;
let installDir: string;
let packedFiles: string[];
let tmuxme: string;
let cliEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tmuxme-package-'));
  const env = npmEnvironment();

  const pack = await run('npm', ['pack', '--json', '--ignore-scripts=false', '--pack-destination', work], { cwd: cliDir, env, timeoutMs: 60_000 });
  if (pack.code !== 0) throw new Error(describeFailure('npm pack', pack));
  const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed!.files.map((file) => file.path);
  const tarball = join(work, packed!.filename);

  installDir = join(work, 'install');
  await mkdir(installDir);
  await writeFile(join(installDir, 'package.json'), '{}\n');
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefix', installDir, tarball], { cwd: installDir, env, timeoutMs: 115_000 });
  if (install.code !== 0) throw new Error(describeFailure('npm install', install));

  tmuxme = join(installDir, 'node_modules', '.bin', 'tmuxme');
  const home = join(work, 'home');
  await mkdir(home);
  cliEnv = Object.fromEntries(Object.entries(npmEnvironment())
    .filter(([name]) => !/^(TMUXME_|XDG_CONFIG_HOME$)/.test(name) && !/^npm_/i.test(name)));
  cliEnv.HOME = home;
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const runTmuxme = (...args: string[]) => run(tmuxme, args, { cwd: installDir, env: cliEnv, timeoutMs: 20_000 });

describe('the npm package', () => {
  it('holds the compiled dist/ and the README, and no sources or tests', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/bin/tmuxme.js']));
    const unexpected = packedFiles.filter((path) => !/^(package\.json|README\.md|LICENSE)$/.test(path) && !/^dist\/.+\.js$/.test(path));
    expect(unexpected).toEqual([]);
    expect(packedFiles.filter((path) => /(^|\/)(src|test)\/|\.test\.|\.tsx?$/.test(path))).toEqual([]);
  });

  it('installs a bin that keeps its shebang and is executable', async () => {
    const bin = join(installDir, 'node_modules', '@tmuxme', 'cli', 'dist', 'bin', 'tmuxme.js');
    expect((await readFile(bin, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
    await expect(access(tmuxme, constants.X_OK)).resolves.toBeUndefined();
    expect((await stat(bin)).mode & 0o111).not.toBe(0);
  });

  it('imports only its own files (with .js extensions), Node built-ins and its dependencies', async () => {
    const root = join(installDir, 'node_modules', '@tmuxme', 'cli');
    const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const allowed = new Set(Object.keys(manifest.dependencies ?? {}));
    const files = (await readdir(join(root, 'dist'), { recursive: true })).filter((name) => name.endsWith('.js'));
    expect(files.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const name of files) {
      const file = join(root, 'dist', name);
      const source = await readFile(file, 'utf8');
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((match) => match[1]!);
      for (const specifier of specifiers) {
        const where = `${relative(root, file)}: "${specifier}"`;
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

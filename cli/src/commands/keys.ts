import { access, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openAccount } from '../lib/account.js';
import { ApiError } from '../lib/api-client.js';
import type { Command } from './command.js';
import { runCommand, serverOption, serverUsage, UsageError } from './run-command.js';

const options = { ...serverOption, json: { type: 'boolean' }, title: { type: 'string' } } as const;
const defaultKeyFiles = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub'];
// Twice the server's own limit: enough for any public key, and a huge file is refused before it is read.
const maxKeyFileBytes = 16_384;

export const keysCommand: Command = {
  name: 'keys',
  summary: 'list, add or remove the SSH public keys of your account',
  usage: `Usage: tmuxme keys [--json]                    list your keys
       tmuxme keys add [<file>] [--title <title>] add a public key
       tmuxme keys rm <id or fingerprint>         remove a key

Your keys are how guests get into a host's session and how your tunnel is let in.
keys add reads ~/.ssh/id_ed25519.pub, id_ecdsa.pub or id_rsa.pub (the first that exists) unless
you name a file; the title defaults to the key's comment.

  --json              print the list as JSON
  --title <title>     a name for the key, e.g. "work laptop"
${serverUsage}`,
  run: (argv) => runCommand(keysCommand, argv, async () => {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true });
    const [action = 'list', target, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (action === 'list' || action === 'ls') {
      if (target !== undefined) throw new UsageError(`unexpected argument: ${target}`);
      return listKeys({ server: values.server, json: values.json ?? false });
    }
    if (action === 'add') return addKey({ server: values.server, file: target, title: values.title });
    if (action === 'rm' || action === 'remove') {
      if (target === undefined) throw new UsageError('name the key to remove by its id or fingerprint (`tmuxme keys` lists them)');
      return removeKey({ server: values.server, idOrFingerprint: target });
    }
    throw new UsageError(`unknown action "${action}"`);
  }),
};

export async function listKeys({ server, json }: { server?: string; json: boolean }): Promise<number> {
  const { settings, api } = await openAccount({ server });
  const keys = await api.listKeys();
  if (json) {
    console.log(JSON.stringify(keys, null, 2));
  } else if (keys.length === 0) {
    console.log(`Your account on ${settings.server} has no SSH keys yet: add yours with \`tmuxme keys add\`.`);
  } else {
    console.log(formatTable([['ID', 'TITLE', 'TYPE', 'FINGERPRINT', 'ADDED'],
      ...keys.map((k) => [k.id, k.title, k.type, k.fingerprint, k.createdAt.slice(0, 10)])]));
  }
  return 0;
}

export async function addKey({ server, file, title }: { server?: string; file?: string; title?: string }): Promise<number> {
  const { api } = await openAccount({ server });
  const path = file ?? await defaultKeyFile();
  const key = await readPublicKey(path);
  try {
    const added = await api.addKey({ key, ...(title === undefined ? {} : { title }) });
    console.log(`Added ${added.type} key "${added.title}" (${added.fingerprint}) from ${path}.`);
  } catch (error) {
    // The server's reason alone would not say which file it was about.
    if (error instanceof ApiError && error.code === 'INVALID_KEY') throw new Error(`${path}: ${error.message}`);
    throw error;
  }
  return 0;
}

export async function removeKey({ server, idOrFingerprint }: { server?: string; idOrFingerprint: string }): Promise<number> {
  const { api } = await openAccount({ server });
  const wanted = idOrFingerprint.trim();
  const key = (await api.listKeys()).find((k) => k.id === wanted || k.fingerprint === wanted || k.fingerprint === `SHA256:${wanted}`);
  if (!key) throw new Error(`You have no key with the id or fingerprint "${wanted}"; \`tmuxme keys\` lists yours.`);
  await api.removeKey(key.id);
  console.log(`Removed ${key.type} key "${key.title}" (${key.fingerprint}).`);
  return 0;
}

async function defaultKeyFile(): Promise<string> {
  const sshDir = join(process.env.HOME || homedir(), '.ssh');
  for (const name of defaultKeyFiles) {
    const candidate = join(sshDir, name);
    if (await access(candidate).then(() => true, () => false)) return candidate;
  }
  throw new Error(`No SSH public key in ${sshDir} (looked for ${defaultKeyFiles.join(', ')}). `
    + 'Create one with `ssh-keygen -t ed25519`, or name the file: `tmuxme keys add <file>`.');
}

/** Checked here, before anything is sent: a private key must never leave the machine. */
async function readPublicKey(path: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new Error(`Cannot read ${path} (${(error as NodeJS.ErrnoException).code}); name an existing public key file, e.g. ~/.ssh/id_ed25519.pub.`);
  }
  if (size > maxKeyFileBytes) throw new Error(`${path} is ${size} bytes, too big for an SSH public key; name the .pub file.`);
  const content = await readFile(path, 'utf8');
  if (content.includes('PRIVATE KEY')) {
    throw new Error(`${path} is a private key: never share it. Add its public half instead: \`tmuxme keys add ${path}.pub\`.`);
  }
  return content;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

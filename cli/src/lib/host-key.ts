import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ssh2 from 'ssh2';
import { configFilePath } from './config.js';
import { sshFingerprint } from './ssh-fingerprint.js';

/** The key guests see when tmuxme serves their SSH itself (issue 8): one per machine, kept across sessions. */
export interface HostKey {
  file: string;
  /** OpenSSH private key format, as ssh2's Server takes it. */
  privateKey: string;
  /** `ssh-ed25519 <base64>`: what the session declares so invitations can pin it. */
  publicKey: string;
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

/** A key file others may read is no secret any more: refused rather than silently tightened. */
export class HostKeyPermissionsError extends Error {
  override name = 'HostKeyPermissionsError';
}

/** `$XDG_CONFIG_HOME/tmuxme/host_ed25519`, beside the config file. */
export function hostKeyPath(env: Record<string, string | undefined> = process.env): string {
  return join(dirname(configFilePath(env)), 'host_ed25519');
}

/** Reads the machine's host key, creating it (0600, in a 0700 directory) the first time. */
export async function loadHostKey(file: string = hostKeyPath()): Promise<HostKey> {
  const existing = await readKeyFile(file);
  return describe(file, existing ?? await createKeyFile(file));
}

async function readKeyFile(file: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (mode & 0o077) {
    throw new HostKeyPermissionsError(`${file} is readable by others (mode ${(mode & 0o777).toString(8)}), so it no longer proves this machine is `
      + `the host; run \`chmod 600 ${file}\` if nobody else could have read it, or delete it to get a new key.`);
  }
  return readFile(file, 'utf8');
}

/**
 * ssh2 writes about one ed25519 key in 280 that its own parser then refuses ("Malformed OpenSSH private
 * key", measured: 72 of 20,000), which would leave that host with a key file every later run rejects.
 */
function generateParsableKey(): string {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const { private: privateKey } = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'tmuxme host key' });
    if (!(ssh2.utils.parseKey(privateKey) instanceof Error)) return privateKey;
  }
  throw new Error('could not generate a host key that ssh2 can read back');
}

async function createKeyFile(file: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const privateKey = generateParsableKey();
  // Written aside, then linked into place: link() fails if the file exists, so two tmuxme starting
  // at once agree on one key, and neither ever reads a half-written one.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(privateKey);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temp, file);
    return privateKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = await readKeyFile(file);
    if (theirs === undefined) throw error;
    return theirs;
  } finally {
    await rm(temp, { force: true });
  }
}

function describe(file: string, privateKey: string): HostKey {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error || parsed.isPrivateKey() === false) {
    throw new Error(`${file} is not an OpenSSH private key (${parsed instanceof Error ? parsed.message : 'it holds a public key'}); `
      + 'delete it to get a new host key.');
  }
  const publicKey = `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
  return { file, privateKey, publicKey, fingerprint: sshFingerprint(publicKey) };
}

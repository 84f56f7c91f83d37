import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  generateSshKey, MailCatcher, NetworkNamespace, startTunnelBox, testAmqpUrl, testMongoUrl, type CaughtMail, type TunnelBox,
} from '@tmuxme/testing';
import { ApiClient } from './client.js';
import { startStack, type Stack } from './stack.js';
import { shellQuote } from './terminal.js';

const run = promisify(execFile);
export const cliEntry = resolve(fileURLToPath(import.meta.url), '../../../cli/src/bin/tmuxme.ts');
const cliTsconfig = resolve(fileURLToPath(import.meta.url), '../../../cli/tsconfig.json');
const boxName = 'box.test';

/** Where the world runs. The defaults suit one Jest run; a bench beside a running e2e test picks other subnets and ports. */
export interface WorldOptions {
  /** The database server and broker; by default those of the Jest global setup. */
  servers?: { mongoUrl: string; amqpUrl: string };
  /** Third octets of the host's, the guest's and the walled guest's 10.213.x.0/24. */
  subnets?: [host: number, guest: number, walledGuest: number];
  /** The box's leased ports: every box listens on this machine's addresses, so two worlds need apart ranges. */
  ports?: { first: number; last: number };
  /** How long a session lives without a heartbeat (the service's default is 90 s). */
  sessionTtlMs?: number;
  /** Whether the host's namespace runs an sshd on port 22, which `--system-sshd` needs (default true). */
  hostSshd?: boolean;
}

/** An ordinary account of this machine: no root, no sudo. */
export interface LocalAccount {
  name: string;
  uid: number;
  gid: number;
}

/** A signed-up user with a key on disk, as the CLI would run for them. */
export interface Person {
  username: string;
  home: string;
  keyFile: string;
  /** `ssh-ed25519 <base64> <comment>`, as added to their account. */
  publicKey: string;
  apiToken: string;
  api: ApiClient;
  /** The machine account that runs the CLI for them; root when absent. */
  account?: LocalAccount;
}

/** A local account with a group of its own, created the first time. */
export async function ensureLocalAccount(name: string): Promise<LocalAccount> {
  const lookUp = async (): Promise<LocalAccount> => {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
  };
  try {
    return await lookUp();
  } catch {
    // Another run may create it at the same moment: whoever loses the race finds it all the same.
    await run('useradd', ['--create-home', '--user-group', '--shell', '/bin/bash', name]).catch(() => {});
    return lookUp();
  }
}

/**
 * A pinned join command (from the mail or the session) as `guest` runs it: with their key, and none of this
 * machine's ssh_config. A jump command's inner ssh (its ProxyCommand) gets the same: OpenSSH looks for
 * default keys in the home of the passwd entry, which for every guest here is root's, not in $HOME.
 */
export function guestJoinCommand(pinned: string, guest: Pick<Person, 'keyFile'>, extraOptions: readonly string[] = []): string {
  const own = ['-F', 'none', '-i', guest.keyFile, '-o', 'IdentitiesOnly=yes'].map(shellQuote).join(' ');
  const options = [own, ...extraOptions.map(shellQuote)].join(' ');
  return pinned.replace(/^ssh /, `ssh ${options} `).replace(/ProxyCommand="ssh /, `ProxyCommand="ssh ${own} `);
}

/**
 * The guest's join command from an invitation mail, pinned to the host's key, with the guest's own key file:
 * straight to the leased port on the box, or through the box's SSH port (its jump hop finds the key in ~/.ssh).
 */
export function joinCommandInMail(mailText: string, guest: Pick<Person, 'keyFile'>, path: 'direct' | 'jump' = 'direct', extraOptions: readonly string[] = []): string {
  const destination = path === 'direct' ? `tmuxme@${boxName.replace('.', '\\.')}` : 'tmuxme@127\\.0\\.0\\.1';
  const pinned = new RegExp(`^\\s*(ssh -o UserKnownHostsFile=/dev/null .*${destination})\\s*$`, 'm').exec(mailText)?.[1];
  if (!pinned) throw new Error(`no pinned ${path} join command in the mail:\n${mailText}`);
  return guestJoinCommand(pinned, guest, extraOptions);
}

/**
 * The whole pairing system on one machine, the way it is spread in real life: the services and
 * the tunnel box here, and a host and a guest each in a network namespace of their own that reach
 * the box (as `box.test`) and the API but not each other. Unless told not to, the host's namespace
 * runs an sshd of its own on port 22, configured as DESIGN section 6 recommends.
 */
export class PairingWorld {
  private readonly cleanUps: (() => Promise<unknown>)[] = [];

  private constructor(
    readonly stack: Stack,
    readonly box: TunnelBox,
    readonly mail: MailCatcher,
    readonly host: NetworkNamespace,
    readonly guest: NetworkNamespace,
    /** A guest whose firewall lets only the box's SSH port out, as many company and hotel networks do. */
    readonly walledGuest: NetworkNamespace,
    readonly dir: string,
    private readonly gatewayPort: number,
  ) {}

  static async start({
    servers, subnets = [71, 72, 70], ports = { first: 31000, last: 31999 }, sessionTtlMs, hostSshd = true,
  }: WorldOptions = {}): Promise<PairingWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'tmuxme-world-'));
    await chmod(dir, 0o755);
    const box = await startTunnelBox({ listen: '0.0.0.0' });
    const mail = await MailCatcher.start();
    const hostKey = box.hostPublicKey;
    const stack = await startStack({
      mongoUrl: servers?.mongoUrl ?? testMongoUrl('world'), amqpUrl: servers?.amqpUrl ?? testAmqpUrl(), gatewayHost: '0.0.0.0', smtpUrl: mail.url,
      authorizedKeysFile: box.authorizedKeysFile,
      boxes: [{ boxId: 'box-1', tunnelHost: boxName, tunnelPort: box.port, hostKey, portRange: { from: ports.first, to: ports.last } }], liveBoxes: true,
      sessions: { sessionTtlMs, sweepIntervalMs: 500 },
    });
    const host = await NetworkNamespace.create(subnets[0], { [boxName]: `10.213.${subnets[0]}.1` });
    const guest = await NetworkNamespace.create(subnets[1], { [boxName]: `10.213.${subnets[1]}.1` });
    const walledGuest = await NetworkNamespace.create(subnets[2], { [boxName]: `10.213.${subnets[2]}.1` });
    const world = new PairingWorld(stack, box, mail, host, guest, walledGuest, dir, Number(new URL(stack.gatewayUrl).port));
    world.cleanUps.push(
      () => box.stop(), () => mail.stop(), () => stack.close(), () => host.destroy(), () => guest.destroy(), () => walledGuest.destroy(),
      () => rm(dir, { recursive: true, force: true }),
    );
    await walledGuest.allowOnlyTcpPort(walledGuest.gateway, box.port);
    if (hostSshd) await world.startHostSshd();
    return world;
  }

  /** The API as seen from this machine, and from inside a namespace. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  apiUrlFrom(ns: NetworkNamespace): string {
    return `http://${ns.gateway}:${this.gatewayPort}`;
  }

  /**
   * The key is in ~/.ssh, where ssh and the CLI look (a jump command's inner ssh finds it there too); with
   * `account`, the home and the key belong to that local account.
   */
  async signUp(username: string, account?: LocalAccount): Promise<Person> {
    const home = await mkdtemp(join(this.dir, `${username}-`));
    await chmod(home, 0o755);
    const key = await generateSshKey('ed25519', undefined, `${username}@laptop`);
    const keyDir = join(home, '.ssh');
    const keyFile = join(keyDir, 'id_ed25519');
    await mkdir(keyDir, { recursive: true, mode: 0o700 });
    await writeFile(keyFile, key.privateKey, { mode: 0o600 });
    if (account) for (const path of [home, keyDir, keyFile]) await chown(path, account.uid, account.gid);
    const { user, apiToken } = await new ApiClient(this.apiUrl).signup(username);
    const added = await user.request('POST', '/api/v1/user/keys', { key: key.publicKey });
    if (added.status !== 201) throw new Error(`adding ${username}'s key: ${added.status} ${added.text}`);
    return { username, home, keyFile, publicKey: key.publicKey, apiToken, api: user, account };
  }

  /**
   * The shell command that runs the CLI with `args` as `person`'s local account would: the CLI's sources by
   * default, or `installed`, the path of a `tmuxme` that npm installed.
   */
  cliCommand(person: Person, args: string, installed?: string): string {
    return this.commandAs(person, `${installed ? shellQuote(installed) : `node --import tsx ${shellQuote(cliEntry)}`} ${args}`);
  }

  /** The shell command line `command` as `person`'s local account runs it. */
  commandAs(person: Person, command: string): string {
    if (!person.account) return command;
    const { uid, gid } = person.account;
    return `setpriv --reuid=${uid} --regid=${gid} --init-groups ${command}`;
  }

  /** What the CLI needs in its environment to act as this person from inside a namespace. */
  cliEnvironment(person: Person, ns: NetworkNamespace): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: person.home, XDG_CONFIG_HOME: join(person.home, '.config'),
      TMUXME_SERVER: this.apiUrlFrom(ns), TMUXME_TOKEN: person.apiToken, TERM: 'xterm-256color', LANG: 'C.UTF-8',
      // tsx reads the tsconfig of the working directory; the CLI's own one says how to compile its JSX.
      TSX_TSCONFIG_PATH: cliTsconfig,
    };
  }

  /** The invitation mail `username` got (the `nth` one, counting from 1), once it arrives. */
  async invitationFor(username: string, timeoutMs = 20_000, nth = 1): Promise<CaughtMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mail.messages.filter((m) => m.envelope.to.includes(`${username}@example.com`))[nth - 1];
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no invitation for ${username} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    for (const cleanUp of this.cleanUps.reverse()) await cleanUp().catch(() => {});
  }

  /** DESIGN section 6's recommended block, on the machine's own host key (what the CLI declares). */
  private async startHostSshd(): Promise<void> {
    await run('ssh-keygen', ['-A']);
    const config = join(this.dir, 'host-sshd_config');
    await writeFile(config, [
      'Port 22', 'ListenAddress 0.0.0.0', 'HostKey /etc/ssh/ssh_host_ed25519_key', `PidFile ${join(this.dir, 'host-sshd.pid')}`,
      'AuthorizedKeysFile .ssh/authorized_keys', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no',
      'Match User tmuxme', '  AuthenticationMethods publickey', '  DisableForwarding yes', '  PermitTunnel no', '  PermitUserRC no', '  PermitTTY yes', '',
    ].join('\n'));
    await this.host.exec('/usr/sbin/sshd', ['-f', config, '-E', join(this.dir, 'host-sshd.log')]);
  }
}

import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Server } from '@tmuxme/service-kit';
import {
  canConnect, eventually, generateSshKey, MailCatcher, NetworkNamespace, startTunnelBox, testAmqpUrl, testMongoUrl,
  type CaughtMail, type TunnelBox, type TunnelBoxAnnouncement,
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
  /**
   * The boxes' leased ports: every box listens on this machine's addresses, so two worlds need apart ranges.
   * With more than one box, each gets an even slice of it, in order, so no two boxes' forwards can meet.
   */
  ports?: { first: number; last: number };
  /**
   * How many tunnel boxes (default 1). Each is a real sshd of its own on this machine's addresses (a port each),
   * with a tunnel-sync of its own announcing it, and every namespace reaches each as `box.test`.
   */
  boxes?: number;
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

/** Sends `name` to `pid`, which may have gone meanwhile. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Gone already.
  }
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

/** One of the world's tunnel boxes, as sessions knows it and as it runs here. */
export interface WorldBox {
  /** `box-1`, `box-2`…: the id it announces itself by, and the one leases and sessions name. */
  id: string;
  box: TunnelBox;
  /** The leased ports that are this box's. */
  portRange: { from: number; to: number };
  /** Its tunnel-sync (the stack's own for the first box): `.close()` stops it, with a last, draining heartbeat. */
  tunnelSync: Server;
}

/**
 * The whole pairing system on one machine, the way it is spread in real life: the services and
 * the tunnel box here, and a host and a guest each in a network namespace of their own that reach
 * the box (as `box.test`) and the API but not each other. Unless told not to, the host's namespace
 * runs an sshd of its own on port 22, configured as docs/architecture.md §6 recommends.
 */
export class PairingWorld {
  private readonly cleanUps: (() => Promise<unknown>)[] = [];

  private constructor(
    readonly stack: Stack,
    /** Every tunnel box, the first one first. */
    readonly boxes: WorldBox[],
    readonly mail: MailCatcher,
    readonly host: NetworkNamespace,
    readonly guest: NetworkNamespace,
    /** A guest whose firewall lets only the (first) box's SSH port out, as many company and hotel networks do. */
    readonly walledGuest: NetworkNamespace,
    readonly dir: string,
    private readonly gatewayPort: number,
  ) {}

  static async start({
    servers, subnets = [71, 72, 70], ports = { first: 31000, last: 31999 }, sessionTtlMs, hostSshd = true, boxes: boxCount = 1,
  }: WorldOptions = {}): Promise<PairingWorld> {
    if (!Number.isInteger(boxCount) || boxCount < 1) throw new Error(`a world needs a whole number of boxes, at least one, not ${boxCount}`);
    const slice = Math.floor((ports.last - ports.first + 1) / boxCount);
    if (slice < 1) throw new Error(`ports ${ports.first}-${ports.last} cannot be shared by ${boxCount} boxes`);
    const dir = await mkdtemp(join(tmpdir(), 'tmuxme-world-'));
    await chmod(dir, 0o755);
    const boxes: TunnelBox[] = [];
    for (let i = 0; i < boxCount; i += 1) boxes.push(await startTunnelBox({ listen: '0.0.0.0' }));
    const box = boxes[0]!;
    const mail = await MailCatcher.start();
    // One box takes the whole range, as ever; more share it out, the last one to the end of it.
    const announced: TunnelBoxAnnouncement[] = boxes.map((one, i) => ({
      boxId: `box-${i + 1}`, tunnelHost: boxName, tunnelPort: one.port, hostKey: one.hostPublicKey,
      portRange: { from: ports.first + i * slice, to: i === boxCount - 1 ? ports.last : ports.first + (i + 1) * slice - 1 },
    }));
    const stack = await startStack({
      mongoUrl: servers?.mongoUrl ?? testMongoUrl('world'), amqpUrl: servers?.amqpUrl ?? testAmqpUrl(), gatewayHost: '0.0.0.0', smtpUrl: mail.url,
      authorizedKeysFile: box.authorizedKeysFile,
      boxes: announced, liveBoxes: true,
      sessions: { sessionTtlMs, sweepIntervalMs: 500 },
    });
    const syncs: Server[] = [stack.servers.tunnelSync!];
    for (let i = 1; i < boxCount; i += 1) syncs.push(await stack.startTunnelSync(announced[i]!, boxes[i]!.authorizedKeysFile));
    const host = await NetworkNamespace.create(subnets[0], { [boxName]: `10.213.${subnets[0]}.1` });
    const guest = await NetworkNamespace.create(subnets[1], { [boxName]: `10.213.${subnets[1]}.1` });
    const walledGuest = await NetworkNamespace.create(subnets[2], { [boxName]: `10.213.${subnets[2]}.1` });
    const worldBoxes = boxes.map((one, i) => ({ id: announced[i]!.boxId, box: one, portRange: announced[i]!.portRange, tunnelSync: syncs[i]! }));
    const world = new PairingWorld(stack, worldBoxes, mail, host, guest, walledGuest, dir, Number(new URL(stack.gatewayUrl).port));
    // Undone in reverse: the other boxes' tunnel-syncs close before the stack (whose broker and database they use), the boxes after it.
    world.cleanUps.push(
      ...boxes.map((one) => () => one.stop()), () => mail.stop(), () => stack.close(), ...syncs.slice(1).map((sync) => () => sync.close()),
      () => host.destroy(), () => guest.destroy(), () => walledGuest.destroy(),
      () => rm(dir, { recursive: true, force: true }),
    );
    try {
      // The stack waits for the first box only: a session must be able to land on any of them.
      if (boxCount > 1) await eventually(async () => (await stack.servers.sessions.db.collection('boxes').countDocuments()) >= boxCount, 20_000);
      await walledGuest.allowOnlyTcpPort(walledGuest.gateway, box.port);
      if (hostSshd) await world.startHostSshd();
    } catch (error) {
      // A world that never started is nobody's to stop: its boxes and namespaces would outlive the run.
      await world.stop();
      throw error;
    }
    return world;
  }

  /** The first box (the only one unless told otherwise). */
  get box(): TunnelBox {
    return this.boxes[0]!.box;
  }

  /** The box sessions knows as `id`. */
  boxById(id: string): WorldBox {
    const found = this.boxes.find((one) => one.id === id);
    if (!found) throw new Error(`the world has no box ${id} (it has ${this.boxes.map((one) => one.id).join(', ')})`);
    return found;
  }

  /**
   * The box dies as a machine would: every sshd process of it (the listener, and the per-connection ones that
   * hold the forwards and would outlive it) is SIGKILLed, and its tunnel-sync stops, so sessions hears from it no
   * more. Resolves once nothing answers on its SSH port.
   */
  async loseBox(id: string): Promise<void> {
    const { box, tunnelSync } = this.boxById(id);
    const listener = Number((await readFile(`/run/tmuxme-tunnel-${box.port}.pid`, 'utf8')).trim());
    if (!Number.isInteger(listener) || listener <= 1) throw new Error(`box ${id}'s pid file names no process`);
    // Stopped, a process forks nothing more: the tree is gathered whole, then killed at once (orphans would leave it).
    const tree = new Set([listener]);
    process.kill(listener, 'SIGSTOP');
    for (;;) {
      const { stdout } = await run('ps', ['-e', '-o', 'pid=,ppid=']);
      const children = stdout.split('\n').map((line) => line.trim().split(/\s+/).map(Number))
        .filter(([pid, ppid]) => pid !== undefined && ppid !== undefined && tree.has(ppid) && !tree.has(pid)).map(([pid]) => pid!);
      if (children.length === 0) break;
      for (const pid of children) {
        tree.add(pid);
        signal(pid, 'SIGSTOP');
      }
    }
    for (const pid of tree) signal(pid, 'SIGKILL');
    await eventually(async () => !(await canConnect(box.port)), 10_000);
    await tunnelSync.close();
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
      const found = (await this.mail.messages()).filter((m) => m.envelope.to.includes(`${username}@example.com`))[nth - 1];
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no invitation for ${username} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    for (const cleanUp of this.cleanUps.reverse()) await cleanUp().catch(() => {});
  }

  /** The recommended block of docs/architecture.md §6, on the machine's own host key (what the CLI declares). */
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

import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace joined to this machine's own by a veth pair: the test's stand-in for
 * another computer. Each gets its own /24 with no route beyond it, so two of them reach this
 * machine but never each other. Needs root and iproute2; throws (never skips) without them.
 */
export class NetworkNamespace {
  private constructor(
    readonly name: string,
    /** This machine's address on the link: what the namespace reaches us at. */
    readonly gateway: string,
    /** The namespace's own address. */
    readonly address: string,
    private readonly outerLink: string,
  ) {}

  /** `subnet` is the third octet of 10.213.<subnet>.0/24; `hosts` become the namespace's /etc/hosts. */
  static async create(subnet: number, hosts: Record<string, string> = {}): Promise<NetworkNamespace> {
    if (process.getuid?.() !== 0) throw new Error('network namespaces need root: run these tests as root');
    const id = randomBytes(3).toString('hex');
    const ns = new NetworkNamespace(`tmx-${id}`, `10.213.${subnet}.1`, `10.213.${subnet}.2`, `tmx-${id}-o`);
    const inner = `tmx-${id}-i`;
    await NetworkNamespace.removeLeftoversOn(subnet);
    try {
      await ip('netns', 'add', ns.name);
      await ip('link', 'add', ns.outerLink, 'type', 'veth', 'peer', 'name', inner);
      await ip('link', 'set', inner, 'netns', ns.name);
      await ip('addr', 'add', `${ns.gateway}/24`, 'dev', ns.outerLink);
      await ip('link', 'set', ns.outerLink, 'up');
      await ns.ip('addr', 'add', `${ns.address}/24`, 'dev', inner);
      await ns.ip('link', 'set', inner, 'up');
      await ns.ip('link', 'set', 'lo', 'up');
      // `ip netns exec` mounts /etc/netns/<name>/hosts over /etc/hosts for what runs inside.
      await mkdir(`/etc/netns/${ns.name}`, { recursive: true });
      const lines = Object.entries(hosts).map(([name, address]) => `${address} ${name}`);
      await writeFile(`/etc/netns/${ns.name}/hosts`, ['127.0.0.1 localhost', ...lines, ''].join('\n'));
    } catch (error) {
      await ns.destroy();
      throw error;
    }
    return ns;
  }

  /** Runs a command inside and resolves with its output; rejects with its stderr when it fails. */
  async exec(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
    return run('ip', ['netns', 'exec', this.name, command, ...args], { env: options.env, timeout: options.timeoutMs ?? 30_000 });
  }

  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /**
   * The namespace's own firewall drops every TCP connection to `destination` but those to `port`: a
   * guest on a company or hotel network that lets only SSH's port out. Needs iptables.
   */
  async allowOnlyTcpPort(destination: string, port: number): Promise<void> {
    try {
      await run('ip', ['netns', 'exec', this.name, 'iptables', '-A', 'OUTPUT', '-p', 'tcp', '-d', destination, '!', '--dport', String(port), '-j', 'DROP']);
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`iptables in ${this.name}: ${stderr?.trim() || (error as Error).message} (install iptables)`);
    }
  }

  /** Kills what still runs inside, then removes the namespace, its link and its hosts file. */
  async destroy(): Promise<void> {
    const { stdout } = await run('ip', ['netns', 'pids', this.name]).catch(() => ({ stdout: '' }));
    for (const pid of stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await run('ip', ['link', 'del', this.outerLink]).catch(() => {});
    await run('ip', ['netns', 'del', this.name]).catch(() => {});
    await rm(`/etc/netns/${this.name}`, { recursive: true, force: true });
  }

  /**
   * A test run killed before its teardown leaves its namespaces behind, their links still holding their
   * subnets. A new link on the same subnet would then share its route with the stale one, and this
   * machine's replies could leave by the dead link: connections from the new namespace would hang. Two
   * live namespaces on one subnet cannot work either, so whatever holds the subnet goes.
   */
  private static async removeLeftoversOn(subnet: number): Promise<void> {
    const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']).catch(() => ({ stdout: '' }));
    for (const line of stdout.split('\n')) {
      const [, link, address] = /^\d+:\s+(\S+)\s+inet\s+(\S+)/.exec(line) ?? [];
      const id = /^tmx-([0-9a-f]{6})-o(?:@\S+)?$/.exec(link ?? '')?.[1];
      if (id && address?.startsWith(`10.213.${subnet}.`)) {
        await new NetworkNamespace(`tmx-${id}`, '', '', `tmx-${id}-o`).destroy();
      }
    }
  }

  private ip(...args: string[]) {
    return ip('-n', this.name, ...args);
  }
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT') throw new Error('`ip` is missing: install iproute2');
    throw new Error(`ip ${args.join(' ')}: ${stderr?.trim() ?? (error as Error).message}`);
  }
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listeningAddresses, testAmqpUrl, testMongoUrl } from '@tmuxme/testing';
import { ensureLocalAccount, joinCommandInMail, PairingWorld, shellQuote, Terminal, type Person } from '../src/index.js';

const run = promisify(execFile);

/** What differs between the two ways to host; everything else is one scenario. */
interface HostingMode {
  /** The host's namespace runs an sshd on port 22. */
  hostSshd: boolean;
  /** The machine account the host runs tmuxme as; root when absent. */
  account?: string;
  cliFlags: (host: Person) => string;
  /** The public or private key file whose key the guests must be shown. */
  hostKeyFile: (host: Person) => string;
  /** What letting the guests in changed on the host's machine, present while the session runs and gone after. */
  traces: (host: Person, guests: Person[]) => Promise<string[]>;
}

/** The guests' lines in the `tmuxme` user's authorized_keys, which other runs on this machine share. */
async function seedGuestLines(_host: Person, guests: Person[]): Promise<string[]> {
  const blobs = guests.map((guest) => guest.publicKey.split(' ')[1]!);
  return (await readFile('/home/tmuxme/.ssh/authorized_keys', 'latin1').catch(() => ''))
    .split('\n').filter((line) => blobs.some((blob) => line.includes(blob)));
}

const modes: Record<'embedded' | 'system-sshd', HostingMode> = {
  // An ordinary user on a laptop with no sshd: tmuxme finds the key in ~/.ssh and serves the guests itself.
  'embedded': {
    hostSshd: false,
    account: 'tmuxme-host-e2e',
    cliFlags: () => '',
    hostKeyFile: (host) => join(host.home, '.config/tmuxme/host_ed25519'),
    // The session's private tmux directory (the CLI's default without XDG_RUNTIME_DIR).
    traces: async (host) => readdir(`/tmp/tmuxme-${host.account!.uid}-private`).catch(() => []),
  },
  // The seed's way, as root: the namespace's own sshd, the `tmuxme` user and its authorized_keys.
  'system-sshd': {
    hostSshd: true,
    cliFlags: (host) => `--system-sshd -i ${shellQuote(host.keyFile)}`,
    hostKeyFile: () => '/etc/ssh/ssh_host_ed25519_key.pub',
    traces: seedGuestLines,
  },
};

/**
 * The whole product, end to end, on real components: hana hosts `tmuxme --no-tui alice bob:ro`
 * from her own network namespace; alice and bob join from another, with the command from their
 * invitation mail, through the tunnel box. Host and guests reach the box but never each other.
 */
describe.each(Object.keys(modes) as (keyof typeof modes)[])('pairing through the tunnel box, hosting with %s', (modeName) => {
  const mode = modes[modeName];
  let world: PairingWorld;
  let hana: Person;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let host: Terminal;
  let port: number;
  const terminals: Terminal[] = [];

  beforeAll(async () => {
    world = await PairingWorld.start({ hostSshd: mode.hostSshd, servers: { mongoUrl: testMongoUrl(`world-${modeName}`), amqpUrl: testAmqpUrl() } });
    hana = await world.signUp('hana', mode.account ? await ensureLocalAccount(mode.account) : undefined);
    alice = await world.signUp('alice');
    bob = await world.signUp('bob');
    carol = await world.signUp('carol');
  }, 120_000);
  afterAll(async () => {
    await Promise.all(terminals.map((t) => t.close()));
    await world?.stop();
  });

  const guestTerminal = async (guest: Person, command: string, from = world.guest) => {
    const terminal = await Terminal.open(from, join(world.dir, `${guest.username}-${terminals.length}.tmux`), command, { PATH: process.env.PATH!, HOME: guest.home, TERM: 'xterm-256color' });
    terminals.push(terminal);
    return terminal;
  };

  /** Whether anyone outside the box can open a TCP connection to the port, from the guest's namespace. */
  const answersFromOutside = (sessionPort: number) =>
    world.guest.exec('bash', ['-c', `exec 3<>/dev/tcp/box.test/${sessionPort}`], { timeoutMs: 5_000 }).then(() => true, () => false);

  const listeningPorts = async () => (await world.host.exec('ss', ['-Hltn'])).stdout.split('\n').filter(Boolean)
    .map((line) => Number(/:(\d+)\s/.exec(line)?.[1]));

  /** The uids the CLI's processes run as, in the host's namespace. */
  const cliUids = async () => {
    const { stdout: pids } = await run('ip', ['netns', 'pids', world.host.name]);
    const { stdout } = await run('ps', ['-o', 'uid=,args=', '-p', pids.trim().split(/\s+/).join(',')]);
    return [...stdout.matchAll(/^\s*(\d+)\s+node .*tmuxme\.ts/gm)].map((m) => Number(m[1]));
  };

  it('nothing listens in the host\'s namespace but the sshd the mode needs', async () => {
    expect(await listeningPorts()).toEqual(mode.hostSshd ? [22] : []);
  });

  it('the host and the guest cannot reach each other directly', async () => {
    if (mode.hostSshd) await world.host.exec('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/22']);
    await expect(world.guest.exec('bash', ['-c', `exec 3<>/dev/tcp/${world.host.address}/22`], { timeoutMs: 5_000 })).rejects.toThrow();
  });

  it('hosting: every step runs, and each guest is mailed the join command', async () => {
    host = await Terminal.open(world.host, join(world.dir, 'host.tmux'),
      world.cliCommand(hana, `--no-tui alice bob:ro ${mode.cliFlags(hana)}`), world.cliEnvironment(hana, world.host));
    terminals.push(host);
    // The CLI's own lines scroll by before it attaches to the pairing tmux, so they are read from the mail and the API.
    const mail = await world.invitationFor('alice', 60_000);
    expect(mail.subject).toContain('hana');
    port = Number(/-p (\d+) tmuxme@box\.test/.exec(mail.text)?.[1]);
    expect(port).toBeGreaterThanOrEqual(31000);
    expect((await world.invitationFor('bob')).text).toMatch(/watch|read-only/i);
    expect(await mode.traces(hana, [alice, bob])).not.toEqual([]);
    expect(new Set(await cliUids())).toEqual(new Set([hana.account?.uid ?? 0]));
    // Nothing new listens on the host: guests come through the tunnel, which the host opened.
    expect(await listeningPorts()).toEqual(mode.hostSshd ? [22] : []);
  }, 90_000);

  it('the session declares the host key the guests are shown, and the invitation pins it', async () => {
    const { stdout } = await run('ssh-keygen', ['-lf', mode.hostKeyFile(hana)]);
    const fingerprint = stdout.split(' ')[1];
    expect(fingerprint).toMatch(/^SHA256:/);
    const [session] = (await alice.api.request('GET', '/api/v1/pairing/sessions')).json as { hostKeyFingerprint?: string }[];
    expect(session?.hostKeyFingerprint).toBe(fingerprint);
    expect((await world.invitationFor('alice')).text).toContain(fingerprint);
  });

  it('alice types into the host\'s session; bob watches and his typing goes nowhere', async () => {
    const aliceTerminal = await guestTerminal(alice, joinCommandInMail((await world.invitationFor('alice')).text, alice));
    await aliceTerminal.waitFor(/tmux\.me: joined as alice/);
    await aliceTerminal.type('echo alice-was-here-$((6*7))');
    await host.waitFor(/alice-was-here-42/);

    const bobTerminal = await guestTerminal(bob, joinCommandInMail((await world.invitationFor('bob')).text, bob));
    await bobTerminal.waitFor(/alice-was-here-42/);
    await bobTerminal.type('echo bob-typed-$((6*7))');
    await aliceTerminal.type('echo alice-again');
    await host.waitFor(/alice-again/);
    expect(await host.screen()).not.toContain('bob-typed-42');
  }, 60_000);

  it('behind a firewall that lets only the box\'s SSH port out, the direct command fails and the jump command from the mail works', async () => {
    const mail = (await world.invitationFor('alice')).text;
    const { stderr } = await world.walledGuest.exec('bash', ['-c',
      `${joinCommandInMail(mail, alice, 'direct', ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3'])} true; echo "exit $?" >&2`], { timeoutMs: 20_000 });
    expect(stderr).toMatch(/timed out/i);

    const walled = await guestTerminal(alice, joinCommandInMail(mail, alice, 'jump'), world.walledGuest);
    await walled.waitFor(/tmux\.me: joined as alice/);
    await walled.type('echo through-the-ssh-port-$((6*7))');
    await host.waitFor(/through-the-ssh-port-42/);
  }, 60_000);

  it('a third user\'s key is refused, though she has an account and a key', async () => {
    const { stderr } = await world.guest.exec('bash', ['-c',
      `ssh -F none -i ${shellQuote(carol.keyFile)} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p ${port} tmuxme@box.test true; echo "exit $?" >&2`]);
    expect(stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('when the host leaves tmux, everything is undone', async () => {
    await host.type('exit');
    const screen = await host.waitFor(/Session over \(the tmux session ended\)/, 30_000);
    expect(screen).not.toMatch(/problem:/);
    expect(screen).not.toContain('[failed]');
    const started = [...screen.matchAll(/^\[\.\.\] (.+)$/gm)].map((m) => m[1]);
    const done = [...screen.matchAll(/^\[ok\] (.+) \(\d+\.\d s\)/gm)].map((m) => m[1]);
    // Steps that do not need each other run at once, so they finish in no fixed order; each one finished.
    expect([...done].sort()).toEqual([...started].sort());
    for (const step of ["Fetch the guests' keys", 'Lease a port', 'Open the reverse tunnel', 'Start tmux', 'Declare the session']) {
      expect(done.some((title) => title?.startsWith(step))).toBe(true);
    }

    expect(await mode.traces(hana, [alice, bob])).toEqual([]);
    expect((await hana.api.request('GET', '/api/v1/pairing/sessions')).json).toEqual([]);
    // The lease is released: the box drops hana's line, and nothing listens on the port any more.
    const boxFile = async () => readFile(world.box.authorizedKeysFile, 'utf8');
    for (let i = 0; i < 100 && (await boxFile()).includes(`permitlisten="${port}"`); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await boxFile()).not.toContain(`permitlisten="${port}"`);
    expect(await answersFromOutside(port)).toBe(false);
  }, 60_000);

  it('a private session: only the jump command is mailed, the port answers nobody outside the box, and only invited guests get through', async () => {
    const privateHost = await Terminal.open(world.host, join(world.dir, 'private-host.tmux'),
      world.cliCommand(hana, `--no-tui --private alice ${mode.cliFlags(hana)}`), world.cliEnvironment(hana, world.host));
    terminals.push(privateHost);
    const mail = (await world.invitationFor('alice', 60_000, 2)).text;
    expect(mail).toMatch(/private/i);
    expect(mail).not.toMatch(/tmuxme@box\.test/);
    const [session] = (await alice.api.request('GET', '/api/v1/pairing/sessions')).json as { private: boolean; port: number; jumpJoinCommand: string }[];
    expect(session).toMatchObject({ private: true });
    expect(await listeningAddresses(session!.port)).toEqual(expect.arrayContaining(['127.0.0.1']));
    expect(await listeningAddresses(session!.port)).not.toEqual(expect.arrayContaining(['0.0.0.0']));
    expect(await answersFromOutside(session!.port)).toBe(false);

    const walled = await guestTerminal(alice, joinCommandInMail(mail, alice, 'jump'), world.walledGuest);
    await walled.waitFor(/tmux\.me: joined as alice/);
    await walled.type('echo private-$((6*7))');
    await privateHost.waitFor(/private-42/);

    // carol has an account and a key, but no invitation: the box opens her no way to the port.
    const carolTries = joinCommandInMail(mail, carol, 'jump', ['-o', 'BatchMode=yes']);
    const { stderr } = await world.walledGuest.exec('bash', ['-c', `${carolTries} true; echo "exit $?" >&2`], { env: { PATH: process.env.PATH, HOME: carol.home } });
    expect(stderr).toMatch(/Permission denied \(publickey\)/);
    expect(stderr).toContain('exit 255');

    await privateHost.type('exit');
    await privateHost.waitFor(/Session over \(the tmux session ended\)/, 30_000);
  }, 90_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually } from '@tmuxme/testing';
import { cliEntry, PairingWorld, shellQuote, Terminal, type Person } from '../src/index.js';

/**
 * The host's side of a session from start to end, on the real system: the interactive TUI driven
 * through a terminal, Ctrl-C, a crash and the run after it, and a guest who cannot be invited.
 */
let world: PairingWorld;
let hana: Person;
let alice: Person;
const terminals: Terminal[] = [];
const guestLines = async () => (await readFile('/home/tmuxme/.ssh/authorized_keys', 'latin1').catch(() => '')).split('\n').filter((l) => l.includes('tmuxme-guest:'));

beforeAll(async () => {
  // Sessions live 4 s without a heartbeat here, so that keeping alive and expiring both show within a test.
  world = await PairingWorld.start({ subnets: [73, 74, 76], sessionTtlMs: 4_000 });
  hana = await world.signUp('hana');
  alice = await world.signUp('alice');
}, 120_000);
afterAll(async () => {
  await Promise.all(terminals.map((t) => t.close()));
  await world?.stop();
});

async function hostTerminal(name: string, args: string): Promise<Terminal> {
  const terminal = await Terminal.open(world.host, join(world.dir, `${name}.tmux`),
    `node --import tsx ${shellQuote(cliEntry)} ${args} --system-sshd -i ${shellQuote(hana.keyFile)}`, world.cliEnvironment(hana, world.host));
  terminals.push(terminal);
  return terminal;
}

async function aliceJoins(): Promise<Terminal> {
  const [session] = (await alice.api.request('GET', '/api/v1/pairing/sessions')).json as { port: number }[];
  const terminal = await Terminal.open(world.guest, join(world.dir, `alice-${Date.now()}.tmux`),
    `ssh -F none -i ${shellQuote(alice.keyFile)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p ${session!.port} tmuxme@box.test`,
    { PATH: process.env.PATH!, HOME: alice.home, TERM: 'xterm-256color' });
  terminals.push(terminal);
  await terminal.waitFor(/tmux\.me: joined as alice/);
  return terminal;
}

/** Ctrl-b d, sent again if tmux missed it (keys sent the instant after a burst of output can be). */
async function detach(host: Terminal): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await host.keys('C-b', 'd');
    if (await host.waitFor(/\[detached \(from session tmuxme\)\]/, 2_000).then(() => true, () => false)) return;
  }
  throw new Error(`tmux did not detach:\n${await host.screen()}`);
}

/**
 * Enter on the TUI, pressed again if tmux dropped the new client: once in three full runs tmux 3.3a
 * answered this attach with "[server exited unexpectedly]" while its server (and alice on it) carried on.
 */
async function attach(host: Terminal): Promise<void> {
  const dropped = (screen: string) => screen.split('[server exited unexpectedly]').length - 1;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const before = dropped(await host.screen());
    await host.keys('Enter');
    const outcome = await host.waitFor((screen) => /\[tmuxme\] 0:/.test(screen) || dropped(screen) > before, 10_000);
    if (/\[tmuxme\] 0:/.test(outcome)) return;
    // Back on the TUI, which takes Enter again once it has drawn itself.
    await host.waitFor((screen) => /Enter attach to tmux[^[]*$/.test(screen));
  }
  throw new Error(`tmux would not attach:\n${await host.screen()}`);
}

const liveSessions = async () => (await hana.api.request('GET', '/api/v1/pairing/sessions')).json as unknown[];

describe('the host', () => {
  it('lets nobody in and opens no tunnel when a guest cannot be invited, and gives back the lease it took meanwhile', async () => {
    await world.signUp('keyless').then((p) => p.api.request('GET', '/api/v1/user/keys').then(async ({ json }) => {
      for (const key of json as { id: string }[]) await p.api.request('DELETE', `/api/v1/user/keys/${key.id}`);
    }));
    const before = await readFile('/home/tmuxme/.ssh/authorized_keys', 'latin1').catch(() => 'no file');
    const host = await hostTerminal('refused', '--no-tui alice nobody-here keyless');
    const screen = await host.waitFor(/\[exited 1\]/, 60_000);
    expect(screen).toContain('[failed] Fetch the guests\' keys');
    expect(screen).toContain('there is no account called "nobody-here"');
    expect(screen).toContain('keyless has no SSH key yet');
    expect(screen).not.toContain('Let the guests in');
    expect(screen).not.toContain('Open the reverse tunnel');
    expect(screen).not.toContain('could not');
    expect(await readFile('/home/tmuxme/.ssh/authorized_keys', 'latin1').catch(() => 'no file')).toBe(before);
    // The lease is asked for beside the keys: once given back, the box lets nobody listen on its port.
    const leased = /\[ok\] Lease a port on the tunnel box .*: port (\d+)/.exec(screen)?.[1];
    if (leased) await eventually(async () => !(await readFile(world.box.authorizedKeysFile, 'utf8')).includes(`permitlisten="${leased}"`));
  }, 60_000);

  it('in the TUI: sees every step, alice arrive, attaches with Enter, comes back on detach, and ends with q', async () => {
    const host = await hostTerminal('tui', 'alice');
    await host.waitFor((s) => s.includes('Your guests were mailed') && s.includes('○ alice may type not connected'), 60_000);
    expect(await host.screen()).toMatch(/✔ Declare the session and mail the guests \d+\.\d s session [0-9a-f]{24}/);
    const aliceTerminal = await aliceJoins();
    await host.waitFor(/● alice may type connected since \d\d:\d\d/);

    await attach(host);
    await aliceTerminal.type('echo typed-by-alice');
    await host.waitFor(/typed-by-alice/);
    await detach(host);
    await host.waitFor(/\[detached \(from session tmuxme\)\][\s\S]*● alice may type connected since/);

    await host.type('q', false);
    const screen = await host.waitFor(/Session over \(you ended it\)[\s\S]*\[exited 0\]/, 30_000);
    expect(screen).not.toContain('could not');
    expect(await guestLines()).toEqual([]);
    expect(await liveSessions()).toEqual([]);
  }, 120_000);

  it('heartbeats keep the session alive past its time to live; Ctrl-C ends it and undoes every step', async () => {
    const host = await hostTerminal('ctrl-c', '--no-tui --no-attach alice');
    await host.waitFor(/Guests join with: ssh -p \d+ tmuxme@box\.test/, 60_000);
    await new Promise((r) => setTimeout(r, 10_000));
    expect(await liveSessions()).toHaveLength(1);
    expect(await guestLines()).toHaveLength(1);
    await host.keys('C-c');
    await host.waitFor(/Session over \(you pressed Ctrl-C\)\.\n\[exited 0\]/, 30_000);
    expect(await guestLines()).toEqual([]);
    expect(await liveSessions()).toEqual([]);
  }, 90_000);

  it('after a crash, the next run says so and cleans up what the dead one left, its tmux included', async () => {
    const crashed = await hostTerminal('crash', '--no-tui --no-attach alice');
    await crashed.waitFor(/Guests join with/, 60_000);
    const linesBefore = (await guestLines()).length;
    // Anchored: the terminal's own tmux server has the same words in its command line.
    const cli = '^node .*tmuxme.ts --no-tui --no-attach alice';
    const pid = (await world.host.exec('pgrep', ['-f', cli])).stdout.trim();
    const tmuxOfTheRun = () => world.host.exec('pgrep', ['-f', `tmux -S /tmp/tmuxme-0/${pid}-`]).then(() => true, () => false);
    await world.host.exec('pkill', ['-KILL', '-f', cli]);
    await crashed.waitFor(/\[exited 137\]/);
    expect(await guestLines()).toHaveLength(linesBefore);
    expect(await tmuxOfTheRun()).toBe(true);
    // Without heartbeats the service lets the session expire.
    for (let i = 0; i < 100 && (await liveSessions()).length > 0; i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await liveSessions()).toEqual([]);
    // Its ssh -R outlived it.
    await world.host.exec('pgrep', ['-f', 'tunnel@box.test']);

    const next = await hostTerminal('after-crash', '--no-tui --no-attach alice');
    const screen = await next.waitFor(/Guests join with/, 60_000);
    expect(screen).toMatch(/Your last tmuxme run \(tmuxme --no-tui --no-attach alice .*, started \d\d:\d\d\) stopped without finishing/);
    expect(screen).toMatch(/Cleaned up after an earlier run that stopped abruptly: alice's key, left by run/);
    expect(screen).toMatch(/Cleaned up after an earlier run that stopped abruptly: the tunnel of \d+-[0-9a-f]+ \(ssh, pid \d+\)/);
    expect(screen).toContain(`Cleaned up after an earlier run that stopped abruptly: the tmux session of ${pid}-`);
    expect(await tmuxOfTheRun()).toBe(false);
    expect(await guestLines()).toHaveLength(1);
    await next.keys('C-c');
    await next.waitFor(/\[exited 0\]/, 30_000);
    expect(await guestLines()).toEqual([]);
    await expect(world.host.exec('pgrep', ['-f', 'tunnel@box.test'])).rejects.toThrow();
  }, 120_000);

});

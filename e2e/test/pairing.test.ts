import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliEntry, guestJoinCommand, PairingWorld, shellQuote, Terminal, type Person } from '../src/index.js';

/**
 * The whole product, end to end, on real components: hana hosts `tmuxme --no-tui alice bob:ro`
 * from her own network namespace; alice and bob join from another, with the command from their
 * invitation mail, through the tunnel box. Host and guests reach the box but never each other.
 */
let world: PairingWorld;
let hana: Person;
let alice: Person;
let bob: Person;
let carol: Person;
let host: Terminal;
const terminals: Terminal[] = [];

beforeAll(async () => {
  world = await PairingWorld.start();
  hana = await world.signUp('hana');
  alice = await world.signUp('alice');
  bob = await world.signUp('bob');
  carol = await world.signUp('carol');
}, 120_000);
afterAll(async () => {
  await Promise.all(terminals.map((t) => t.close()));
  await world?.stop();
});

/** The guest's join command from the mail, pinned to the host's key, with the guest's own key file. */
function joinCommandIn(mailText: string, guest: Person): string {
  const pinned = /^\s*(ssh -o UserKnownHostsFile=\/dev\/null .*tmuxme@box\.test)\s*$/m.exec(mailText)?.[1];
  if (!pinned) throw new Error(`no pinned join command in the mail:\n${mailText}`);
  return guestJoinCommand(pinned, guest);
}

const guestTerminal = async (guest: Person, command: string) => {
  const terminal = await Terminal.open(world.guest, join(world.dir, `${guest.username}.tmux`), command, { PATH: process.env.PATH!, HOME: guest.home, TERM: 'xterm-256color' });
  terminals.push(terminal);
  return terminal;
};

describe('pairing through the tunnel box', () => {
  let port: number;

  it('the host and the guest cannot reach each other directly', async () => {
    await world.host.exec('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/22']);
    await expect(world.guest.exec('bash', ['-c', `exec 3<>/dev/tcp/${world.host.address}/22`], { timeoutMs: 5_000 })).rejects.toThrow();
  });

  it('hosting: every step runs, and each guest is mailed the join command', async () => {
    host = await Terminal.open(world.host, join(world.dir, 'host.tmux'),
      `node --import tsx ${shellQuote(cliEntry)} --no-tui alice bob:ro --system-sshd -i ${shellQuote(hana.keyFile)}`, world.cliEnvironment(hana, world.host));
    terminals.push(host);
    // The CLI's own lines scroll by before it attaches to the pairing tmux, so they are read from the mail and the API.
    const mail = await world.invitationFor('alice', 60_000);
    expect(mail.subject).toContain('hana');
    port = Number(/-p (\d+) tmuxme@box\.test/.exec(mail.text)?.[1]);
    expect(port).toBeGreaterThanOrEqual(31000);
    expect((await world.invitationFor('bob')).text).toMatch(/watch|read-only/i);
  }, 90_000);

  it('alice types into the host\'s session; bob watches and his typing goes nowhere', async () => {
    const aliceTerminal = await guestTerminal(alice, joinCommandIn((await world.invitationFor('alice')).text, alice));
    await aliceTerminal.waitFor(/tmux\.me: joined as alice/);
    await aliceTerminal.type('echo alice-was-here-$((6*7))');
    await host.waitFor(/alice-was-here-42/);

    const bobTerminal = await guestTerminal(bob, joinCommandIn((await world.invitationFor('bob')).text, bob));
    await bobTerminal.waitFor(/alice-was-here-42/);
    await bobTerminal.type('echo bob-typed-$((6*7))');
    await aliceTerminal.type('echo alice-again');
    await host.waitFor(/alice-again/);
    expect(await host.screen()).not.toContain('bob-typed-42');
  }, 60_000);

  it('a third user\'s key is refused, though she has an account and a key', async () => {
    const { stderr } = await world.guest.exec('bash', ['-c',
      `ssh -F none -i ${shellQuote(carol.keyFile)} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p ${port} tmuxme@box.test true; echo "exit $?" >&2`]);
    expect(stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('when the host leaves tmux, everything is undone', async () => {
    const before = await readFile('/home/tmuxme/.ssh/authorized_keys', 'latin1');
    expect(before).toContain('tmuxme-guest:alice:');
    await host.type('exit');
    const screen = await host.waitFor(/Session over \(the tmux session ended\)/, 30_000);
    expect(screen).not.toMatch(/problem:/);
    for (const step of ['Local tmuxme user', "Fetch the guests' keys", 'Let the guests in', 'Lease a port', 'Open the reverse tunnel', 'Start tmux', 'Declare the session']) {
      expect(screen).toMatch(new RegExp(`\\[ok\\] ${step}.*\\(\\d+\\.\\d s\\)`));
    }

    const after = await readFile('/home/tmuxme/.ssh/authorized_keys', 'latin1');
    expect(after).not.toContain('tmuxme-guest:alice:');
    expect(after).not.toContain('tmuxme-guest:bob:');
    expect((await hana.api.request('GET', '/api/v1/pairing/sessions')).json).toEqual([]);
    // The lease is released: the box drops hana's line, and nothing listens on the port any more.
    const boxFile = async () => readFile(world.box.authorizedKeysFile, 'utf8');
    for (let i = 0; i < 100 && (await boxFile()).includes(`permitlisten="${port}"`); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await boxFile()).not.toContain(`permitlisten="${port}"`);
    await expect(world.guest.exec('bash', ['-c', `exec 3<>/dev/tcp/box.test/${port}`], { timeoutMs: 5_000 })).rejects.toThrow();
  }, 60_000);
});

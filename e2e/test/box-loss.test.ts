import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '@tmuxme/testing';
import { ensureLocalAccount, joinCommandInMail, PairingWorld, Terminal, type Person, type WorldBox } from '../src/index.js';

const run = promisify(execFile);

interface SessionView {
  id: string;
  boxId: string;
  port: number;
  tunnelHost: string;
  tunnelPort: number;
}

/**
 * The host's tunnel box dies under a live session, on the real system: two tunnel boxes (each a real sshd with
 * its own tunnel-sync), hana hosting `tmuxme --no-tui alice` as an ordinary user (tmuxme serving the guests'
 * SSH itself), alice in another namespace joining with the command from her mail. The box the session is on is
 * killed outright, sshd and every process of it, and its tunnel-sync stops: hana's tmuxme moves the session to
 * the other box, alice is mailed the new command, joins again with it and types into hana's tmux.
 */
let world: PairingWorld;
let hana: Person;
let alice: Person;
let host: Terminal;
const terminals: Terminal[] = [];

/** What the test learns as the session goes: where it started, where it went, and the run that hosts it. */
let before: SessionView;
let lost: WorldBox;
let other: WorldBox;
let after: SessionView;
let cliPid: number;
let aliceFirst: Terminal;
let aliceAgain: Terminal;

beforeAll(async () => {
  // Ports 30000-30999 are no other test's: box-1 leases 30000-30499, box-2 30500-30999.
  world = await PairingWorld.start({ subnets: [81, 82, 80], ports: { first: 30000, last: 30999 }, boxes: 2, hostSshd: false });
  hana = await world.signUp('hana', await ensureLocalAccount('tmuxme-host-e2e'));
  alice = await world.signUp('alice');
}, 120_000);
afterAll(async () => {
  await Promise.all(terminals.map((t) => t.close()));
  await world?.stop();
});

const guestTerminal = async (command: string) => {
  const terminal = await Terminal.open(world.guest, join(world.dir, `alice-${terminals.length}.tmux`), command, { PATH: process.env.PATH!, HOME: alice.home, TERM: 'xterm-256color' });
  terminals.push(terminal);
  return terminal;
};

/** hana's run log: every line --no-tui prints, though she is in tmux when they come (the CLI's default, XDG_STATE_HOME unset). */
const runLog = () => readFile(join(hana.home, '.local/state/tmuxme/last-run.log'), 'utf8');

/** Resolves with the match once the run log has a line matching `pattern`; fails with the log as it was. */
async function inRunLog(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await runLog().catch(() => '');
    const found = pattern.exec(log);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`the run log never showed ${String(pattern)} within ${timeoutMs} ms; it holds:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const session = async (id: string) => {
  const response = await hana.api.request('GET', `/api/v1/pairing/sessions/${id}`);
  expect(response.status).toBe(200);
  return response.json as SessionView;
};

const liveSessions = async () => (await hana.api.request('GET', '/api/v1/pairing/sessions')).json as SessionView[];

/** Whether anyone outside the boxes can open a TCP connection to the port, from the guest's namespace. */
const answersFromOutside = (port: number) =>
  world.guest.exec('bash', ['-c', `exec 3<>/dev/tcp/box.test/${port}`], { timeoutMs: 5_000 }).then(() => true, () => false);

/** The run's private tmux directories (named after its pid), in the CLI's default place without XDG_RUNTIME_DIR. */
const tmuxDirectoriesOfTheRun = async () =>
  (await readdir(`/tmp/tmuxme-${hana.account!.uid}-private`).catch(() => [] as string[])).filter((name) => name.startsWith(`${cliPid}-`));

/**
 * Resolves once the pane of the run's own tmux (the one hana and her guests share), read as hana's account reads
 * it, shows `pattern`: what the CLI prints to hana's terminal while she is in tmux cannot get in the way.
 */
async function hostTmuxShows(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const [directory] = await tmuxDirectoriesOfTheRun();
  if (!directory) throw new Error(`run ${cliPid} has no tmux directory`);
  const { uid, gid } = hana.account!;
  const socket = join(`/tmp/tmuxme-${uid}-private`, directory, 'socket');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout: pane } = await run('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', 'tmux', '-S', socket, 'capture-pane', '-p', '-J', '-S', '-200', '-t', 'tmuxme'])
      .catch((error: Error) => ({ stdout: `(tmux: ${error.message})` }));
    if (pattern.test(pane)) return pane;
    if (Date.now() > deadline) throw new Error(`the host's tmux never showed ${String(pattern)}; it shows:\n${pane}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pids of the CLI's processes in the host's namespace. */
const cliProcesses = async () => {
  const { stdout: pids } = await run('ip', ['netns', 'pids', world.host.name]);
  if (!pids.trim()) return [];
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '-p', pids.trim().split(/\s+/).join(',')]).catch(() => ({ stdout: '' }));
  return [...stdout.matchAll(/^\s*(\d+)\s+node .*tmuxme\.ts/gm)].map((m) => Number(m[1]));
};

const inRange = (port: number, { portRange }: WorldBox) => port >= portRange.from && port <= portRange.to;

describe('the host\'s tunnel box dies mid-session', () => {
  it('two boxes are in rotation, on ports apart; hana hosts on one of them, and alice joins from her mail and types', async () => {
    expect(world.boxes.map(({ id, portRange }) => ({ id, portRange }))).toEqual([
      { id: 'box-1', portRange: { from: 30000, to: 30499 } }, { id: 'box-2', portRange: { from: 30500, to: 30999 } },
    ]);
    expect(world.boxes[0]!.box.port).not.toBe(world.boxes[1]!.box.port);

    host = await Terminal.open(world.host, join(world.dir, 'host.tmux'), world.cliCommand(hana, '--no-tui alice'), world.cliEnvironment(hana, world.host));
    terminals.push(host);
    const invitation = await world.invitationFor('alice', 60_000);
    const [listed] = await liveSessions();
    expect(listed).toBeDefined();
    before = await session(listed!.id);
    lost = world.boxById(before.boxId);
    other = world.boxes.find((box) => box !== lost)!;
    expect(inRange(before.port, lost)).toBe(true);
    expect(before.tunnelPort).toBe(lost.box.port);
    expect(invitation.text).toContain(`-p ${before.port} tmuxme@box.test`);
    cliPid = Number((await inRunLog(/^tmuxme run (\d+) started /m, 5_000))[1]);
    expect(await cliProcesses()).toContain(cliPid);
    expect(await tmuxDirectoriesOfTheRun()).toHaveLength(1);

    aliceFirst = await guestTerminal(joinCommandInMail(invitation.text, alice));
    await aliceFirst.waitFor(/tmux\.me: joined as alice/);
    await aliceFirst.type('echo before-the-move-$((6*7))');
    await hostTmuxShows(/before-the-move-42/);
  }, 120_000);

  it('the box dies, sshd and every process of it, and its tunnel-sync: alice is cut off, and hana\'s tmuxme moves the session to the other box', async () => {
    await world.loseBox(lost.id);
    // Her ssh went through the forward, which died with the box.
    await aliceFirst.waitFor(/\[exited 255\]/, 30_000);
    expect(await answersFromOutside(before.port)).toBe(false);

    // The CLI tries its box for ~3 s, then leases on the other one, opens its tunnel there and moves the session.
    const moved = await inRunLog(/^\d\d:\d\d:\d\d Moved to (\S+) port (\d+); the guests were mailed the new command: (.+)$/m, 45_000);
    const log = await runLog();
    expect(log).toMatch(/note: The tunnel dropped \(.*\); reopening it\./);
    expect(log).toContain('note: The tunnel box box.test stopped answering; moving the session to another box');
    expect(log).not.toMatch(/Ending the session|Session over|problem:/);

    after = await session(before.id);
    expect(after.id).toBe(before.id);
    expect(after.boxId).toBe(other.id);
    expect(inRange(after.port, other)).toBe(true);
    expect(after.tunnelPort).toBe(other.box.port);
    expect(moved[1]).toBe(after.tunnelHost);
    expect(Number(moved[2])).toBe(after.port);
    expect(moved[3]).toContain(`-p ${after.port} tmuxme@box.test`);
    // Still the one session, and the server gave back the lease on the lost box.
    expect((await liveSessions()).map((s) => s.id)).toEqual([before.id]);
    const leases = world.stack.servers.sessions.db.collection('leases');
    await eventually(async () => (await leases.countDocuments({ boxId: lost.id, port: before.port, deletedAt: null })) === 0, 10_000);
    expect(await answersFromOutside(after.port)).toBe(true);
  }, 90_000);

  it('alice is mailed the new command, joins the moved session with it, and her typing shows in hana\'s tmux', async () => {
    const mail = await world.invitationFor('alice', 30_000, 2);
    expect(mail.subject).toBe('hana\'s session on tmux.me moved to another tunnel box');
    expect(mail.text).toContain(`-p ${after.port} tmuxme@box.test`);
    expect(mail.text).not.toContain(`-p ${before.port} `);
    expect(mail.text).toContain(`tmuxme join ${before.id}`);

    aliceAgain = await guestTerminal(joinCommandInMail(mail.text, alice));
    await aliceAgain.waitFor(/tmux\.me: joined as alice/);
    await aliceAgain.type('echo after-the-move-$((6*7))');
    const pane = await hostTmuxShows(/after-the-move-42/);
    // The same tmux as before the move: what alice typed then is still in it.
    expect(pane).toContain('before-the-move-42');
    // And hana, in it through her terminal, sees it too.
    await host.waitFor(/after-the-move-42/);
  }, 60_000);

  it('when hana leaves tmux, everything is undone, on the box the session moved to as well', async () => {
    await host.type('exit');
    const screen = await host.waitFor(/Session over \(the tmux session ended\)[\s\S]*\[exited 0\]/, 30_000);
    expect(screen).not.toMatch(/problem:/);
    // The run log has every line, those written while hana was in tmux too.
    const log = await runLog();
    expect(log).not.toMatch(/problem:|\[failed\]/);
    const started = [...log.matchAll(/^\d\d:\d\d:\d\d \[\.\.\] (.+)$/gm)].map((m) => m[1]);
    const done = [...log.matchAll(/^\d\d:\d\d:\d\d \[ok\] (.+) \(\d+\.\d s\)/gm)].map((m) => m[1]);
    expect([...done].sort()).toEqual([...started].sort());
    expect(log).toMatch(/^\d\d:\d\d:\d\d exit 0$/m);

    await aliceAgain.waitFor(/\[exited \d+\]/, 30_000);
    expect(await liveSessions()).toEqual([]);
    expect(await tmuxDirectoriesOfTheRun()).toEqual([]);
    expect(await cliProcesses()).toEqual([]);
    // The lease on the box it moved to is released: that box drops hana's line, and nothing listens on the port any more.
    await eventually(async () => !(await readFile(other.box.authorizedKeysFile, 'utf8')).includes(`permitlisten="${after.port}"`), 15_000);
    expect(await answersFromOutside(after.port)).toBe(false);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSshKey } from '@tmuxme/testing';
import { ensureTunnelAccount } from './support.js';
import {
  barrier, besideFiles, buildTunnelSyncApp, comment, fileSettles, joinBarrier, joinComment, keyLines, keyText, newId, producer, tunnelSyncOptions,
  type Producer, type TunnelSyncTestApp, type User,
} from './tunnel-sync-app.js';

/**
 * The join user's file and the private tunnel user's, through real events on the real broker: which
 * guest key may open which session's port, and what takes that away again.
 */
let dir: string;
let files: { tunnel: string; privateFile: string; joinFile: string };
let app: TunnelSyncTestApp;
let events: Producer;
let gid: number;

beforeAll(async () => {
  gid = await ensureTunnelAccount();
  dir = await mkdtemp(join(tmpdir(), 'tunnel-sync-join-'));
  const tunnel = join(dir, 'authorized_keys');
  files = { tunnel, ...besideFiles(tunnel) };
  const options = tunnelSyncOptions(tunnel);
  app = await buildTunnelSyncApp(options);
  events = await producer(options);
});

afterAll(async () => {
  await events?.bus.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Member extends User {
  keyId: string;
  key: string;
}

async function member(name: string): Promise<Member> {
  const user = { userId: `u-${name}-${newId()}`, username: name };
  const made = { ...user, keyId: newId(), key: keyText((await generateSshKey('ed25519')).publicKey) };
  await events.keyAdded(made, made.keyId, made.key);
  return made;
}

/** A host with a live lease on a fresh port, and a session there with these guests. */
async function hosted(host: Member, guests: User[], port: number, { private: isPrivate = false } = {}) {
  const [leaseId, sessionId] = [newId(), newId()];
  await events.portLeased(host, leaseId, port, { private: isPrivate });
  await events.sessionDeclared(host, sessionId, port, guests, { private: isPrivate });
  return { leaseId, sessionId, port };
}

const opens = (...ports: number[]) => ports.map((port) => `permitopen="127.0.0.1:${port}"`).join(',');
const lineOf = (who: Member) => (lines: string[]) => lines.filter((line) => line.endsWith(joinComment(who, who.keyId)));
/** The join file must show a change within a second: that is how soon a guest's way in must close. */
const joinSettles = (check: (lines: string[]) => boolean) => fileSettles(files.joinFile, check, 1000);

describe('the join file', () => {
  it('is written root:tunnel 0640 at start, with its header', async () => {
    for (const file of [files.joinFile, files.privateFile]) {
      const found = await stat(file);
      expect({ uid: found.uid, gid: found.gid, mode: found.mode & 0o777 }).toEqual({ uid: 0, gid, mode: 0o640 });
      expect(await readFile(file, 'utf8')).toMatch(/^# Written by tmux\.me tunnel-sync: .*\n/);
    }
  });

  it('follows SessionDeclared and SessionEnded, and a late SessionDeclared stays gone', async () => {
    const [host, guest, stranger] = [await member('host1'), await member('guest1'), await member('stranger1')];
    const session = await hosted(host, [guest], 22101);
    const [line] = await joinSettles((lines) => lineOf(guest)(lines).length === 1);
    expect(line).toBe(`restrict,port-forwarding,${opens(22101)},command="/usr/local/bin/tunnel-hold" ${guest.key} ${joinComment(guest, guest.keyId)}`);
    const lines = await keyLines(files.joinFile);
    expect(lineOf(host)(lines)).toEqual([]);
    expect(lineOf(stranger)(lines)).toEqual([]);

    await events.sessionEnded(session.sessionId);
    await joinSettles((found) => lineOf(guest)(found).length === 0);
    await events.sessionDeclared(host, session.sessionId, session.port, [guest]); // late, or redelivered
    await joinBarrier(files.joinFile, events);
    expect(lineOf(guest)(await keyLines(files.joinFile))).toEqual([]);
  });

  it('drops a guest key when it is removed, and a deleted guest for good', async () => {
    const [host, guest, other] = [await member('host2'), await member('guest2'), await member('other2')];
    await hosted(host, [guest, other], 22102);
    await joinSettles((lines) => lineOf(guest)(lines).length === 1 && lineOf(other)(lines).length === 1);

    await events.keyRemoved(guest, guest.keyId, guest.key);
    await joinSettles((lines) => lineOf(guest)(lines).length === 0);
    expect(lineOf(other)(await keyLines(files.joinFile))).toHaveLength(1);

    await events.userDeleted(other);
    await joinSettles((lines) => lineOf(other)(lines).length === 0);
    const again = { ...other, keyId: newId() };
    await events.keyAdded(again, again.keyId, other.key);
    await joinBarrier(files.joinFile, events);
    expect(lineOf(again)(await keyLines(files.joinFile))).toEqual([]);
  });

  it('closes every session of a deleted host', async () => {
    const [host, guest] = [await member('host3'), await member('guest3')];
    await hosted(host, [guest], 22103);
    await hosted(host, [guest], 22104);
    await joinSettles((lines) => lineOf(guest)(lines).some((line) => line.includes(opens(22103, 22104))));
    await events.userDeleted(host);
    await joinSettles((lines) => lineOf(guest)(lines).length === 0);
  });

  it('gives a guest of two sessions one line that opens both ports, and one again when one ends', async () => {
    const [ann, ben, guest] = [await member('ann4'), await member('ben4'), await member('guest4')];
    const first = await hosted(ann, [guest], 22106);
    await hosted(ben, [guest], 22105);
    // Both sessions applied: the file is rewritten after each, so one port alone is a moment, not the outcome.
    const [line] = await joinSettles((lines) => lineOf(guest)(lines).length === 1 && ['22105', '22106'].every((port) => lineOf(guest)(lines)[0]!.includes(port)));
    expect(line).toContain(`restrict,port-forwarding,${opens(22105, 22106)},command=`);

    await events.sessionEnded(first.sessionId, 'expired');
    const [after] = await joinSettles((lines) => lineOf(guest)(lines).length === 1 && !lineOf(guest)(lines)[0]!.includes('22106'));
    expect(after).toContain(`restrict,port-forwarding,${opens(22105)},command=`);
  });

  it('ignores a session on another box', async () => {
    const [host, guest] = [await member('host5'), await member('guest5')];
    await events.portLeased(host, newId(), 22107);
    await events.sessionDeclared(host, newId(), 22107, [guest], { box: 'box-b.tunnel.test' });
    await joinBarrier(files.joinFile, events);
    expect(lineOf(guest)(await keyLines(files.joinFile))).toEqual([]);
  });

  it('leaves out a session whose lease was released, even once its port is leased again', async () => {
    const [host, guest, next] = [await member('host6'), await member('guest6'), await member('next6')];
    const session = await hosted(host, [guest], 22108);
    await joinSettles((lines) => lineOf(guest)(lines).length === 1);
    // The lease expires before its SessionEnded arrives, and someone else gets the port.
    await events.portReleased(host, session.leaseId, session.port);
    await joinSettles((lines) => lineOf(guest)(lines).length === 0);
    await events.portLeased(next, newId(), session.port);
    await barrier(files.tunnel, events);
    await joinBarrier(files.joinFile, events);
    expect(lineOf(guest)(await keyLines(files.joinFile))).toEqual([]);
  });

  it('writes a private lease to the private file only, and lets its guests in through the join file', async () => {
    const [host, guest] = [await member('host7'), await member('guest7')];
    await hosted(host, [guest], 22109, { private: true });
    const [line] = await fileSettles(files.privateFile, (lines) => lines.some((found) => found.endsWith(comment(host, host.keyId))));
    expect(line).toBe(`restrict,port-forwarding,permitlisten="22109",command="/usr/local/bin/tunnel-hold" ${host.key} ${comment(host, host.keyId)}`);
    await joinSettles((lines) => lineOf(guest)(lines).some((found) => found.includes(opens(22109))));
    await barrier(files.tunnel, events);
    expect((await keyLines(files.tunnel)).filter((found) => found.includes(host.userId))).toEqual([]);

    // A public lease of the same host is on the tunnel file alone.
    await events.portLeased(host, newId(), 22110, { private: false });
    await fileSettles(files.tunnel, (lines) => lines.some((found) => found.endsWith(comment(host, host.keyId)) && found.includes('permitlisten="22110",')));
    expect((await keyLines(files.privateFile)).filter((found) => found.includes(host.userId))).toEqual([line]);
  });
});

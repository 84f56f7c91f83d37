import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Bus } from '@tmuxme/bus';
import { routingKeyFor } from '@tmuxme/events';
import type { MailCatcher } from '@tmuxme/testing';
import { escapeHtml } from '../src/mail/html.js';
import {
  buildNotifierApp, emailOf, jumpCommand, movedHost, pinnedJumpCommand, sessionDeclared, sessionMoved, settled, startNotifier, tunnelHost, userRegistered,
} from './notifier-app.js';

/** A session whose tunnel box died and that its host moved to another: its guests hear of it once, with the way back in. */
let catcher: MailCatcher;
let app: Awaited<ReturnType<typeof buildNotifierApp>>;
let producer: Bus;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ catcher, app, producer, close } = await startNotifier(['alice', 'bob', 'carol']));
});
afterAll(() => close?.());
beforeEach(() => catcher.clear());

const guests = [{ username: 'bob', access: 'rw' as const }, { username: 'carol', access: 'ro' as const }];
const recipients = async () => (await catcher.messages()).map((mail) => mail.envelope.to[0]).sort();
const subject = "alice's session on tmux.me moved to another tunnel box";
const pinnedJump = (port: number) => pinnedJumpCommand(port, movedHost);

describe('a moved session', () => {
  it('mails each guest once, and not the host: who hosts, that it moved and why, the new commands and tmuxme join', async () => {
    const declared = sessionDeclared('alice', guests, 20101);
    await producer.publish(declared);
    await catcher.waitFor(2);
    await catcher.clear();

    const pinned = `ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null -p 21101 tmuxme@${movedHost}`;
    const moved = sessionMoved(declared.data, 21101, { hostKeyFingerprint: 'SHA256:m0v3d', pinnedJoinCommand: pinned, pinnedJumpJoinCommand: pinnedJump(21101) });
    expect(routingKeyFor(moved)).toBe('session.moved.box-2');
    await producer.publish(moved);
    const mails = await catcher.waitFor(2);
    await settled(producer, app);
    expect(await recipients()).toEqual([emailOf('bob'), emailOf('carol')]);

    const why = `alice's tmux session on tmux.me moved to another tunnel box, ${movedHost}: the one it was on, ${tunnelHost}, stopped answering.`;
    for (const mail of mails) {
      expect(mail).toMatchObject({ from: '"tmux.me" <invite@tmux.me>', subject });
      expect(mail.text).toMatch(/^Hi (bob|carol),\n\n/);
      for (const [part, text] of [[mail.text, (t: string) => t], [mail.html, escapeHtml]] as const) {
        expect(part).toContain(text(why));
        expect(part).toContain(text('Join again from a terminal with:'));
        expect(part).toContain(`ssh -p 21101 tmuxme@${movedHost}`);
        expect(part).toContain(text(pinned));
        expect(part).toContain('SHA256:m0v3d');
        expect(part).toContain(text(pinnedJump(21101)));
        expect(part).toContain(`tmuxme join ${declared.data.sessionId}`);
        expect(part).toContain('follows the move by itself');
        expect(part).not.toContain('-p 20101');
      }
      // Short: none of the invitation's set-up steps.
      expect(mail.text).not.toMatch(/Sign up|New to tmux\.me/);
      expect(mail.text.length).toBeLessThan(1500);
    }
  });

  it('sends nothing twice when the same SessionMoved is delivered again, at once or later', async () => {
    const declared = sessionDeclared('alice', guests, 20102);
    await producer.publish(declared);
    await catcher.waitFor(2);
    await catcher.clear();

    const moved = sessionMoved(declared.data, 21102);
    await Promise.all([producer.publish(moved), producer.publish(moved)]);
    await catcher.waitFor(2);
    await producer.publish(moved);
    await settled(producer, app);
    expect(await recipients()).toEqual([emailOf('bob'), emailOf('carol')]);
    for (const mail of await catcher.messages()) expect(mail.subject).toBe(subject);
    expect(await app.db.collection('sent_mails').countDocuments({ _id: { $in: [`${moved.id}:bob`, `${moved.id}:carol`] } as never })).toBe(2);

    // A second move of the same session is news again.
    await catcher.clear();
    await producer.publish(sessionMoved(declared.data, 21202));
    const again = await catcher.waitFor(2);
    expect(again.every((mail) => mail.text.includes(`ssh -p 21202 tmuxme@${movedHost}`))).toBe(true);
  });

  it('gives only the jump commands for a private session, and says why', async () => {
    const declared = sessionDeclared('alice', [{ username: 'bob', access: 'rw' }], 20103, { private: true, joinCommand: jumpCommand(20103) });
    const jump = jumpCommand(21103, movedHost);
    await producer.publish(sessionMoved(declared.data, 21103, {
      joinCommand: jump, hostKeyFingerprint: 'SHA256:m0v3d', pinnedJoinCommand: pinnedJump(21103), pinnedJumpJoinCommand: pinnedJump(21103),
    }));
    const [mail] = await catcher.waitFor(1);
    const why = "alice made this session private: its port is reachable only through the relay's SSH port (2222), and only for the guests alice invited. "
      + 'Join again from a terminal with:';
    for (const [part, text] of [[mail!.text, (t: string) => t], [mail!.html, escapeHtml]] as const) {
      expect(part).toContain(text(why));
      expect(part).toContain(text(jump));
      expect(part).toContain(text(pinnedJump(21103)));
      expect(part).not.toContain('ssh -p 21103');
      expect(part).not.toContain(text("If your network lets only SSH's port out"));
    }
    expect(mail!.text.split(jump)).toHaveLength(2);
    expect(mail!.text.split(pinnedJump(21103))).toHaveLength(2);
  });

  it('waits for a guest whose user events lag, and mails the others meanwhile, as invitations do', async () => {
    const declared = sessionDeclared('alice', [{ username: 'bob', access: 'rw' }, { username: 'dave', access: 'rw' }], 20104);
    await producer.publish(sessionMoved(declared.data, 21104));
    await catcher.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await recipients()).toEqual([emailOf('bob')]);
    await producer.publish(userRegistered('dave'));
    await catcher.waitFor(2);
    await settled(producer, app);
    expect(await recipients()).toEqual([emailOf('bob'), emailOf('dave')]);
    expect((await catcher.messages()).every((mail) => mail.subject === subject)).toBe(true);
  });
});

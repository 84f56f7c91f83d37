import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Bus } from '@tmuxme/bus';
import { createEnvelope, UserDeleted, UserUpdated } from '@tmuxme/events';
import { eventually, type MailCatcher } from '@tmuxme/testing';
import { escapeHtml } from '../src/mail/html.js';
import {
  buildNotifierApp, claimLeaseMs, emailOf, jumpCommand, pinnedJumpCommand, publicUrl, replyTo, sessionDeclared, settled, startNotifier, userRegistered,
} from './notifier-app.js';

/** What a guest receives, and that a redelivered event sends nothing twice. */
let catcher: MailCatcher;
let app: Awaited<ReturnType<typeof buildNotifierApp>>;
let producer: Bus;
let close: () => Promise<void>;
const hostile = '<img src=x onerror=alert(1)>';

beforeAll(async () => {
  ({ catcher, app, producer, close } = await startNotifier(['alice', 'bob', 'carol', [hostile, 'mallory@example.com']]));
});
afterAll(() => close?.());
beforeEach(() => catcher.clear());

const byRecipient = async (address: string) => (await catcher.messages()).filter((mail) => mail.envelope.to.includes(address));
const pinnedJump = (port: number) => pinnedJumpCommand(port);
const jumpIntro = "If your network lets only SSH's port out, join through the relay's SSH port (2222) instead:";

describe('invitations', () => {
  it('mails each guest once: who invited them, how they take part, the commands and how to get set up', async () => {
    const pinned = 'ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/dev/null -p 20001 tmuxme@tunnel.tmux.example';
    await producer.publish(sessionDeclared('alice', [{ username: 'bob', access: 'rw' }, { username: 'carol', access: 'ro' }], 20001, {
      hostKeyFingerprint: 'SHA256:k3yPr1nt', pinnedJoinCommand: pinned, pinnedJumpJoinCommand: pinnedJump(20001),
    }));
    const mails = await catcher.waitFor(2);
    expect(mails.map((mail) => mail.envelope.to).sort()).toEqual([[emailOf('bob')], [emailOf('carol')]]);
    for (const mail of mails) {
      // The display name is quoted on the wire because of its dot.
      expect(mail).toMatchObject({ from: '"tmux.me" <invite@tmux.me>', replyTo, subject: 'alice invited you to pair on tmux.me' });
      for (const part of [mail.text, mail.html]) {
        expect(part).toContain('ssh -p 20001 tmuxme@tunnel.tmux.example');
        expect(part).toContain('SHA256:k3yPr1nt');
        expect(part).toContain(publicUrl);
        expect(part).toMatch(/same key your ssh uses/);
      }
      expect(mail.text).toContain(pinned);
      // The direct commands first; then the pinned jump command, for networks that let only port 22 out.
      expect(mail.text.indexOf(pinned)).toBeLessThan(mail.text.indexOf(jumpIntro));
      expect(mail.text).toContain(`${jumpIntro}\n\n    ${pinnedJump(20001)}\n`);
      expect(mail.html).toContain(escapeHtml(pinnedJump(20001)));
      expect(mail.html).toContain(escapeHtml(jumpIntro));
      expect(mail.text).not.toContain(jumpCommand(20001));
      expect(mail.text).not.toMatch(/private/);
      expect(mail.text).toMatch(/alice invited you/);
      expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@tmux\.me>$/);
    }
    const [bob] = await byRecipient(emailOf('bob'));
    const [carol] = await byRecipient(emailOf('carol'));
    expect(carol!.text).toContain('read-only: you can watch but not type');
    expect(carol!.html).toContain('read-only: you can watch but not type');
    expect(bob!.text).not.toMatch(/read-only|watch but not type/);
    expect(bob!.text).toMatch(/Hi bob,/);
  });

  it('leaves the fingerprint and the pinned command out when the host declared no key', async () => {
    await producer.publish(sessionDeclared('alice', [{ username: 'bob', access: 'rw' }], 20002));
    const [mail] = await catcher.waitFor(1);
    expect(mail!.text).not.toMatch(/fingerprint|SHA256:|refuse any other/);
    expect(mail!.html).not.toMatch(/fingerprint|SHA256:/);
    // The jump command, unpinned then.
    expect(mail!.text).toContain(`${jumpIntro}\n\n    ${jumpCommand(20002)}\n`);
    expect(mail!.html).toContain(jumpCommand(20002));
  });

  it('gives only the jump commands for a private session, and says why', async () => {
    const jump = jumpCommand(20007);
    await producer.publish(sessionDeclared('alice', [{ username: 'bob', access: 'rw' }], 20007, {
      private: true, joinCommand: jump, hostKeyFingerprint: 'SHA256:k3yPr1nt', pinnedJoinCommand: pinnedJump(20007), pinnedJumpJoinCommand: pinnedJump(20007),
    }));
    const [mail] = await catcher.waitFor(1);
    const why = "alice made this session private: its port is reachable only through the relay's SSH port (2222), and only for the guests alice invited.";
    for (const [part, text] of [[mail!.text, (t: string) => t], [mail!.html, escapeHtml]] as const) {
      expect(part).toContain(text(why));
      expect(part).toContain(text(jump));
      expect(part).toContain(text(pinnedJump(20007)));
      expect(part).toContain(text("Or let ssh check the relay's and the host's keys for you"));
      expect(part).not.toContain(text(jumpIntro));
      expect(part).not.toContain('ssh -p 20007');
    }
    expect(mail!.text.split(jump)).toHaveLength(2);
    expect(mail!.text.split(pinnedJump(20007))).toHaveLength(2);
  });

  it('escapes hostile names and commands in the HTML part and keeps them as they are in the text', async () => {
    const command = 'ssh -p 20003 tmuxme@tunnel "</code><script>x()</script>&amp;"';
    await producer.publish(sessionDeclared(hostile, [{ username: hostile, access: 'ro' }], 20003, { joinCommand: command }));
    const [mail] = await catcher.waitFor(1);
    expect(mail!.envelope.to).toEqual(['mallory@example.com']);
    expect(mail!.subject).toBe(`${hostile} invited you to pair on tmux.me`);
    expect(mail!.html).not.toMatch(/<img|<script|<\/code><script/);
    expect(mail!.html).toContain('&lt;img src=x onerror=alert(1)&gt; invited you');
    expect(mail!.html).toContain('&lt;/code&gt;&lt;script&gt;x()&lt;/script&gt;&amp;amp;&quot;');
    expect(mail!.text).toContain(command);
    expect(mail!.text).toContain(`Hi ${hostile},`);
  });

  it('sends nothing twice when the same event is delivered again, at once or later', async () => {
    const event = sessionDeclared('alice', [{ username: 'bob', access: 'rw' }, { username: 'carol', access: 'ro' }], 20004);
    await Promise.all([producer.publish(event), producer.publish(event)]);
    await catcher.waitFor(2);
    await producer.publish(event);
    await settled(producer, app);
    expect((await catcher.messages()).map((mail) => mail.envelope.to[0]).sort()).toEqual([emailOf('bob'), emailOf('carol')]);
    expect(await app.db.collection('sent_mails').countDocuments({ _id: { $in: [`${event.id}:bob`, `${event.id}:carol`] } as never })).toBe(2);
  });

  it('waits for a guest whose user events lag, and mails the others meanwhile', async () => {
    await producer.publish(sessionDeclared('alice', [{ username: 'bob', access: 'rw' }, { username: 'dave', access: 'rw' }], 20005));
    await catcher.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await catcher.messages()).map((mail) => mail.envelope.to[0])).toEqual([emailOf('bob')]);
    await producer.publish(userRegistered('dave'));
    const mails = await catcher.waitFor(2);
    expect(mails.map((mail) => mail.envelope.to[0]).sort()).toEqual([emailOf('bob'), emailOf('dave')]);
  });

  it('takes over a mail that a replica claimed and died with, once the claim has outlived its lease', async () => {
    const event = sessionDeclared('alice', [{ username: 'bob', access: 'rw' }], 20006);
    const mail = `${event.id}:bob`;
    await app.db.collection('mail_claims').insertOne({ _id: `${mail}#0` as never, generation: 0, claimedAt: new Date(), holder: 'a replica that died' });
    const published = Date.now();
    await producer.publish(event);
    const [sent] = await catcher.waitFor(1, 15_000);
    expect(Date.now() - published).toBeGreaterThanOrEqual(claimLeaseMs - 100);
    expect(sent!.envelope.to).toEqual([emailOf('bob')]);
    expect(await app.db.collection('mail_claims').findOne({ _id: `${mail}#1` as never })).toMatchObject({ generation: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await catcher.count()).toBe(1);
  });

  it('follows address changes in event order, and forgets deleted accounts for good', async () => {
    const registered = { ...userRegistered('erin'), occurredAt: new Date(Date.now() - 60_000).toISOString() };
    const updated = createEnvelope(UserUpdated, { userId: 'u-erin', username: 'erin', email: 'erin@new.example' }, { producer: 'accounts' });
    await producer.publish(updated);
    await producer.publish(registered); // older, arrives late
    const entry = () => app.db.collection('addresses').findOne({ _id: 'erin' as never });
    await settled(producer, app);
    expect(await entry()).toMatchObject({ email: 'erin@new.example', deleted: false });

    await producer.publish(createEnvelope(UserDeleted, { userId: 'u-erin', username: 'erin' }, { producer: 'accounts' }));
    await eventually(async () => (await entry())?.deleted === true);
    await producer.publish(userRegistered('erin'));
    await settled(producer, app);
    const forgotten = await entry();
    expect(forgotten).toMatchObject({ deleted: true });
    expect(forgotten).not.toHaveProperty('email');
  });

  it('counts what it sent on /metrics and answers /readyz', async () => {
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/mails_sent_total\{service="notifier"\} ([1-9]\d*)/);
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ ready: true });
  });
});

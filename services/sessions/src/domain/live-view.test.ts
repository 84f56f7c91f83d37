import { describe, expect, it } from '@jest/globals';
import { createEnvelope, PortLeased, PortReleased, SessionDeclared, SessionEnded, SessionMoved } from '@tmuxme/events';
import { LiveView } from './live-view.js';

const producer = { producer: 'sessions' };
const leased = (leaseId: string, boxId: string, port: number) => createEnvelope(PortLeased, {
  leaseId, userId: 'u-host', username: 'host', boxId, tunnelHost: `${boxId}.example.org`, port, expiresAt: '2026-12-07T12:00:00.000Z', private: false,
}, producer);
const released = (leaseId: string, boxId: string, port: number) => createEnvelope(PortReleased, {
  leaseId, userId: 'u-host', username: 'host', boxId, tunnelHost: `${boxId}.example.org`, port,
}, producer);
const commands = { joinCommand: 'ssh -p 20001 tmuxme@box', jumpJoinCommand: 'ssh -J join@box -p 20001 tmuxme@127.0.0.1' };
const declared = (sessionId: string, boxId: string, port: number, guests = ['u-alice']) => createEnvelope(SessionDeclared, {
  sessionId, host: { userId: 'u-host', username: 'host' }, guests: guests.map((userId) => ({ userId, username: userId.slice(2), access: 'rw' as const })),
  boxId, tunnelHost: `${boxId}.example.org`, tunnelPort: 22, port, private: false, ...commands,
}, producer);
const ended = (sessionId: string, boxId: string) => createEnvelope(SessionEnded, { sessionId, boxId, reason: 'ended' }, producer);

describe('LiveView', () => {
  it("keeps each box's leases, pages them by id, and knows the taken ports", () => {
    const view = new LiveView();
    for (const [id, port] of [['l3', 20003], ['l1', 20001], ['l2', 20002]] as const) view.apply(leased(id, 'box-1', port));
    view.apply(leased('l9', 'box-2', 20001));

    expect(view.leasesOn('box-1', undefined, 2)).toEqual({ items: [expect.objectContaining({ leaseId: 'l1' }), expect.objectContaining({ leaseId: 'l2' })], next: 'l2' });
    expect(view.leasesOn('box-1', 'l2', 2)).toEqual({ items: [expect.objectContaining({ leaseId: 'l3', port: 20003, userId: 'u-host' })], next: null });
    expect(view.leasesOn('box-3', undefined, 2)).toEqual({ items: [], next: null });
    expect(view.takenPorts('box-1')).toEqual(new Set([20001, 20002, 20003]));

    view.apply(released('l2', 'box-1', 20002));
    expect(view.takenPorts('box-1')).toEqual(new Set([20001, 20003]));
  });

  it('never brings back a lease released or a session ended before its start arrived', () => {
    const view = new LiveView();
    view.apply(released('l1', 'box-1', 20001));
    view.apply(leased('l1', 'box-1', 20001));
    view.apply(ended('s1', 'box-1'));
    view.apply(declared('s1', 'box-1', 20001));

    expect(view.takenPorts('box-1').size).toBe(0);
    expect(view.sessionIdsOf('u-host')).toEqual([]);
  });

  it("finds a user's sessions, hosted or joined, and the session on a port, and follows a move", () => {
    const view = new LiveView();
    view.apply(declared('s1', 'box-1', 20001, ['u-alice', 'u-bob']));
    view.apply(declared('s1', 'box-1', 20001, ['u-alice', 'u-bob']));
    view.apply(declared('s2', 'box-1', 20002, ['u-alice']));

    expect(view.sessionIdsOf('u-host').sort()).toEqual(['s1', 's2']);
    expect(view.sessionIdsOf('u-bob')).toEqual(['s1']);
    expect(view.sessionOn('box-1', 20002)).toBe('s2');

    view.apply(createEnvelope(SessionMoved, {
      sessionId: 's1', host: { userId: 'u-host', username: 'host' }, guests: [{ userId: 'u-bob', username: 'bob', access: 'ro' }], boxId: 'box-2', private: false,
      from: { boxId: 'box-1', tunnelHost: 'box-1.example.org', port: 20001 }, to: { boxId: 'box-2', tunnelHost: 'box-2.example.org', tunnelPort: 22, port: 21000 }, ...commands,
    }, producer));
    expect(view.sessionOn('box-1', 20001)).toBeUndefined();
    expect(view.sessionOn('box-2', 21000)).toBe('s1');
    expect(view.sessionsOn('box-2', undefined, 10).items).toEqual([{ sessionId: 's1', hostUserId: 'u-host', guestUserIds: ['u-bob'], boxId: 'box-2', port: 21000 }]);
    expect(view.sessionIdsOf('u-alice')).toEqual(['s2']);

    view.apply(ended('s2', 'box-1'));
    expect(view.sessionIdsOf('u-alice')).toEqual([]);
    expect(view.sessionsOn('box-1', undefined, 10)).toEqual({ items: [], next: null });
  });
});

import { describe, expect, it } from '@jest/globals';
import { eventually } from '../../test/eventually.js';
import type { PortLease } from '../lib/api-client.js';
import type { HostBackend } from './host-backend.js';
import type { ConnectedGuest, Guest, HostEvent } from './host-events.js';
import { HostFlow, type HostApi } from './host-flow.js';

const guests: Guest[] = [{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }];
const lease: PortLease = { port: 20001, tunnelHost: 'box', tunnelPort: 22, tunnelHostKey: 'k', leaseId: 'l1', expiresAt: new Date(Date.now() + 60_000).toISOString() };

/** The service's side, in memory: what the flow asks of it is recorded. */
function memoryApi(calls: string[]): HostApi {
  return {
    publicKeys: async (username) => [{ id: `k-${username}`, type: 'ssh-ed25519', key: `ssh-ed25519 ${username}`, fingerprint: '' }],
    leasePort: async () => lease,
    giveBackLease: async () => void calls.push('give back'),
    declareSession: async (input) => ({
      id: 's1', role: 'host', host: { username: 'hana' }, port: input.port, tunnelHost: 'box', tunnelPort: 22,
      guests,
      joinCommand: 'ssh -p 20001 tmuxme@box', createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(),
    }),
    heartbeat: async () => ({ expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    endSession: async () => void calls.push('end session'),
  };
}

/** A machine whose guests come and go, and whose tmux ends, when the test says, and which tells the flow at once. */
function memoryBackend(calls: string[]) {
  let connected: ConnectedGuest[] = [];
  let changed = () => {};
  let endTmux = () => {};
  const tmuxEnded = new Promise<void>((resolve) => { endTmux = resolve; });
  const backend: HostBackend = {
    ensureGuestUser: async () => 'none needed',
    admitGuests: async () => {},
    dismissGuests: async () => void calls.push('dismiss'),
    openTunnel: async () => ({ dropped: new Promise<Error>(() => {}), close: async () => void calls.push('close tunnel') }),
    startTmux: async () => {},
    tmuxRunning: async () => true,
    tmuxEnded: () => tmuxEnded,
    connectedGuests: async () => connected,
    watchGuests: (listener) => { changed = listener; },
    async disconnectGuest(connectionId) {
      calls.push(`disconnect ${connectionId}`);
      const before = connected.length;
      connected = connected.filter((guest) => guest.connectionId !== connectionId);
      return connected.length < before;
    },
    stopTmux: async () => {},
    attachCommand: () => ['tmux'],
    hostKey: async () => undefined,
    cleanUpDeadRuns: async () => [],
  };
  const arrive = (guest: ConnectedGuest) => {
    connected = [...connected, guest];
    changed();
  };
  return { backend, arrive, endTmux };
}

describe('the host flow', () => {
  it('reports each guest as they come and go, and disconnects the one the host names', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const { backend, arrive } = memoryBackend(calls);
    // Polls far apart: what the flow reports here comes from the backend telling it.
    const flow = new HostFlow({
      api: memoryApi(calls), backend, guests,
      emit: (event) => events.push(event), pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000,
    });
    await flow.start();
    const alice = { username: 'alice', readOnly: false, since: new Date(1_000), connectionId: '1' };
    const bob = { username: 'bob', readOnly: true, since: new Date(2_000), connectionId: '2' };
    arrive(alice);
    arrive(bob);
    const changes = () => events.flatMap((event) => (event.type === 'guest' ? [`${event.guest.username} ${event.change}`] : []));
    await eventually(() => changes().length === 2, 'both arrivals reported');
    expect(changes()).toEqual(['alice connected', 'bob connected']);

    expect(await flow.disconnectGuest('1')).toBe(true);
    await eventually(() => changes().length === 3, 'her leaving reported');
    expect(changes()).toEqual(['alice connected', 'bob connected', 'alice left']);
    expect(events.filter((event) => event.type === 'guests').at(-1)).toEqual({ type: 'guests', connected: [bob] });
    expect(await flow.disconnectGuest('1')).toBe(false);

    await flow.end('test over');
    expect(calls).toEqual(['disconnect 1', 'disconnect 1', 'end session', 'close tunnel', 'dismiss']);
  });

  it('ends the session as soon as the backend says tmux ended, with no poll due', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const { backend, endTmux } = memoryBackend(calls);
    const flow = new HostFlow({ api: memoryApi(calls), backend, guests, emit: (event) => events.push(event), pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000 });
    await flow.start();
    endTmux();
    await flow.over;
    expect(events.at(-1)).toEqual({ type: 'ended', reason: 'the tmux session ended', problems: [] });
    expect(calls).toEqual(['end session', 'close tunnel', 'dismiss']);
  });
});

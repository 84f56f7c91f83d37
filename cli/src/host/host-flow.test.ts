import { describe, expect, it } from '@jest/globals';
import { eventually } from '../../test/eventually.js';
import type { PairingSession, PortLease, SessionInput } from '../lib/api-client.js';
import { TunnelFailed } from '../lib/reverse-tunnel.js';
import type { HostBackend, OpenTunnel } from './host-backend.js';
import type { ConnectedGuest, Guest, HostEvent } from './host-events.js';
import { HostFlow, type HostApi } from './host-flow.js';

const guests: Guest[] = [{ username: 'alice', access: 'rw' }, { username: 'bob', access: 'ro' }];
const lease: PortLease = {
  port: 20001, tunnelHost: 'box', tunnelPort: 22, tunnelHostKey: 'k', leaseId: 'l1', expiresAt: new Date(Date.now() + 60_000).toISOString(),
  private: false, tunnelUser: 'tunnel', boxId: 'box-1',
};
/** Where a session moves when its box is lost. */
const otherBox: PortLease = { ...lease, port: 20002, tunnelHost: 'box-b', tunnelHostKey: 'kb', leaseId: 'l2', boxId: 'box-2' };
const jumpJoinCommand = 'ssh -J join@box -o HostKeyAlias=box:20001 -p 20001 tmuxme@127.0.0.1';

function sessionOn(where: Pick<PortLease, 'port' | 'tunnelHost' | 'tunnelHostKey' | 'boxId'>, isPrivate = false): PairingSession {
  const jump = `ssh -J join@${where.tunnelHost} -o HostKeyAlias=${where.tunnelHost}:${where.port} -p ${where.port} tmuxme@127.0.0.1`;
  return {
    id: 's1', role: 'host', host: { username: 'hana' }, port: where.port, tunnelHost: where.tunnelHost, tunnelPort: 22, tunnelHostKey: where.tunnelHostKey,
    boxId: where.boxId, guests, private: isPrivate, joinCommand: isPrivate ? jump : `ssh -p ${where.port} tmuxme@${where.tunnelHost}`, jumpJoinCommand: jump,
    createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString(),
  };
}

/**
 * The service's side, in memory: what the flow asks of it is recorded. `honoursPrivate: false` is a server
 * from before private leases, which ignores `?private=true`. A lease that avoids a box is one on the other box.
 */
function memoryApi(calls: string[], { honoursPrivate = true } = {}): HostApi {
  let current: PairingSession | undefined;
  return {
    publicKeys: async (username) => [{ id: `k-${username}`, type: 'ssh-ed25519', key: `ssh-ed25519 ${username}`, fingerprint: '' }],
    async leasePort(options) {
      calls.push(`lease${options?.private ? ' private' : ''}${options?.avoidBox ? ` avoiding ${options.avoidBox}` : ''}`);
      const isPrivate = honoursPrivate && options?.private === true;
      return { ...(options?.avoidBox ? otherBox : lease), private: isPrivate, tunnelUser: isPrivate ? 'tunnel-private' : 'tunnel' };
    },
    giveBackLease: async (leaseId) => void calls.push(leaseId === lease.leaseId ? 'give back' : `give back ${leaseId}`),
    async declareSession(input: SessionInput) {
      calls.push(`declare ${JSON.stringify(input.private)}`);
      current = sessionOn(lease, input.private);
      return current;
    },
    async moveSession(id, leaseId) {
      calls.push(`move ${id} to ${leaseId}`);
      current = sessionOn(otherBox, current?.private);
      return current;
    },
    getSession: async () => current!,
    heartbeat: async () => ({ expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    endSession: async () => void calls.push('end session'),
  };
}

/**
 * Tunnels that drop when the test says, to boxes that stop answering when it says: a lost box refuses every
 * tunnel after. `drop` makes the box of that tunnel (`box:20001`) lost and drops the tunnel.
 */
function boxes(calls: string[]) {
  const lost = new Set<string>();
  const drops = new Map<string, (error: Error) => void>();
  const openTunnel = async (opened: PortLease): Promise<OpenTunnel> => {
    const where = `${opened.tunnelHost}:${opened.port}`;
    calls.push(`tunnel to ${where}`);
    if (lost.has(opened.tunnelHost)) throw new TunnelFailed(`${where} did not answer`, '');
    return { dropped: new Promise((resolve) => drops.set(where, resolve)), close: async () => void calls.push(`close tunnel to ${where}`) };
  };
  const drop = (where: string) => {
    lost.add(where.split(':')[0]!);
    drops.get(where)!(new Error('connection reset'));
  };
  return { openTunnel, drop };
}

/** The pace of a tunnel's recovery, quick: one try on the lost box, then a move. */
const quickRecovery = { sameBoxDelaysMs: [0], backOffMs: [10], giveUpAfterMs: 2_000 };

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
    async openTunnel(opened) {
      calls.push(`tunnel as ${opened.tunnelUser}`);
      return { dropped: new Promise<Error>(() => {}), close: async () => void calls.push('close tunnel') };
    },
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
    keepTmux: async () => { calls.push('keep tmux'); return ['tmux', '-S', '/run/user 1000/socket', 'attach-session']; },
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
    expect(calls).toEqual(['lease', 'tunnel as tunnel', 'declare undefined', 'disconnect 1', 'disconnect 1', 'end session', 'close tunnel', 'dismiss']);
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
    expect(calls).toEqual(['lease', 'tunnel as tunnel', 'declare undefined', 'end session', 'close tunnel', 'dismiss']);
  });

  it('--private: leases a private port, tunnels as the lease\'s user, declares it private and reports the jump command', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const { backend } = memoryBackend(calls);
    const flow = new HostFlow({ api: memoryApi(calls), backend, guests, private: true, emit: (event) => events.push(event), pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000 });
    await flow.start();
    expect(calls).toEqual(['lease private', 'tunnel as tunnel-private', 'declare true']);
    expect(events).toContainEqual({ type: 'step', id: 'lease', status: 'done', at: expect.any(Number), detail: 'private port 20001 on box' });
    expect(events).toContainEqual({ type: 'step', id: 'tunnel', status: 'done', at: expect.any(Number), detail: "box:20001 forwards to this machine (on the box's loopback only)" });
    expect(events.find((event) => event.type === 'ready')).toMatchObject({ session: { private: true, joinCommand: jumpJoinCommand, jumpJoinCommand } });
    await flow.end('test over');
  });

  it('--private: never hosts publicly on a server that leased a public port, and gives that lease back', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const { backend } = memoryBackend(calls);
    const flow = new HostFlow({ api: memoryApi(calls, { honoursPrivate: false }), backend, guests, private: true, emit: (event) => events.push(event) });
    await expect(flow.start()).rejects.toThrow('the server leased a public port (20001) though a private one was asked for');
    // The failed lease stopped the steps beside it before the guests were let in.
    expect(calls).toEqual(['lease private', 'give back']);
    expect(events.some((event) => event.type === 'ready')).toBe(false);
  });

  it('asks for the guests\' keys, the lease and tmux at once, and declares only once all are done', async () => {
    const calls: string[] = [];
    const api = memoryApi(calls);
    const { backend } = memoryBackend(calls);
    // Each answers only once the other two have been asked: one after another, the set-up would never finish.
    const asked = (what: string, others: string[]) => async () => {
      calls.push(what);
      await eventually(() => others.every((other) => calls.includes(other)), `${others.join(' and ')} asked while ${what} is`);
    };
    const keysAsked = asked('keys', ['lease', 'tmux']);
    const tmuxAsked = asked('tmux', ['keys', 'lease']);
    const leasePort = api.leasePort.bind(api);
    const flow = new HostFlow({
      api: {
        ...api,
        publicKeys: async (username) => { await keysAsked(); return api.publicKeys(username); },
        leasePort: async (options) => { const lease = await leasePort(options); await eventually(() => calls.includes('tmux'), 'tmux started'); return lease; },
      },
      backend: { ...backend, startTmux: tmuxAsked },
      guests: [guests[0]!], emit: () => {}, pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000,
    });
    await flow.start();
    expect(calls.indexOf('declare undefined')).toBeGreaterThan(Math.max(...['keys', 'lease', 'tmux', 'tunnel as tunnel'].map((c) => calls.indexOf(c))));
    await flow.end('test over');
  });

  it('--keep-tmux: undoes everything but tmux, and says how to attach to it', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const { backend } = memoryBackend(calls);
    const flow = new HostFlow({
      api: memoryApi(calls), backend: { ...backend, stopTmux: async () => void calls.push('stop tmux') }, guests, keepTmux: true,
      emit: (event) => events.push(event), pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000,
    });
    await flow.start();
    await flow.end('you ended it');
    expect(new Set(calls)).toEqual(new Set(['lease', 'tunnel as tunnel', 'declare undefined', 'end session', 'close tunnel', 'dismiss', 'keep tmux']));
    expect(events.at(-1)).toEqual({ type: 'ended', reason: 'you ended it', problems: [], keptTmux: "tmux -S '/run/user 1000/socket' attach-session" });
  });

  it('--keep-tmux, when the set-up fails: stops tmux, since nobody worked in it yet', async () => {
    const calls: string[] = [];
    const { backend } = memoryBackend(calls);
    const flow = new HostFlow({
      api: { ...memoryApi(calls), declareSession: async () => { throw new Error('the server said no'); } },
      backend: { ...backend, stopTmux: async () => void calls.push('stop tmux') }, guests, keepTmux: true, emit: () => {},
    });
    await expect(flow.start()).rejects.toThrow('the server said no');
    expect(calls).toContain('stop tmux');
    expect(calls).not.toContain('keep tmux');
  });

  it('a tunnel reopened while the session ends is closed, not left open', async () => {
    const calls: string[] = [];
    const { backend } = memoryBackend(calls);
    let drop = (_error: Error) => {};
    let letReopen = () => {};
    let opened = 0;
    const flow = new HostFlow({
      api: memoryApi(calls),
      backend: {
        ...backend,
        async openTunnel() {
          opened += 1;
          const n = opened;
          calls.push(`tunnel ${n}`);
          if (n === 2) await new Promise<void>((resolve) => { letReopen = resolve; });
          return { dropped: new Promise<Error>((resolve) => { if (n === 1) drop = resolve; }), close: async () => void calls.push(`close tunnel ${n}`) };
        },
      },
      guests, emit: () => {}, pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000,
    });
    await flow.start();
    drop(new Error('connection reset'));
    await eventually(() => calls.includes('tunnel 2'), 'the flow reopens the tunnel');
    await flow.end('the terminal closed (SIGHUP)');
    letReopen();
    await eventually(() => calls.includes('close tunnel 2'), 'the tunnel reopened too late is closed');
    expect(calls.filter((call) => call.startsWith('close'))).toEqual(['close tunnel 1', 'close tunnel 2']);
  });

  it('declares the session on its lease by id when the box is named, and as before for a server of one box', async () => {
    for (const [leased, leaseId] of [[lease, 'l1'], [{ ...lease, boxId: undefined }, undefined]] as const) {
      const declared: SessionInput[] = [];
      const api = memoryApi([]);
      const { backend } = memoryBackend([]);
      const flow = new HostFlow({
        api: { ...api, leasePort: async () => leased, declareSession: async (input) => { declared.push(input); return api.declareSession(input); } },
        backend, guests, emit: () => {}, pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000,
      });
      await flow.start();
      await flow.end('test over');
      expect(declared).toEqual([{ port: 20001, guests, hostKey: undefined, ...(leaseId ? { leaseId } : {}) }]);
    }
  });

  it('moves the session to another box when its box stops answering: the new join commands reported, and the end on the new tunnel', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const { backend } = memoryBackend(calls);
    const { openTunnel, drop } = boxes(calls);
    const flow = new HostFlow({
      api: memoryApi(calls), backend: { ...backend, openTunnel }, guests, emit: (event) => events.push(event),
      pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000, recovery: quickRecovery,
    });
    await flow.start();
    drop('box:20001');
    const moved = await eventually(() => events.find((event) => event.type === 'moved'), 'the session moved');
    expect(moved).toEqual({
      type: 'moved', at: expect.any(Number), from: { tunnelHost: 'box', port: 20001 }, to: { tunnelHost: 'box-b', port: 20002 },
      session: expect.objectContaining({ id: 's1', joinCommand: 'ssh -p 20002 tmuxme@box-b', jumpJoinCommand: expect.stringContaining('join@box-b'), attachCommand: ['tmux'] }),
    });
    expect(events).toContainEqual({ type: 'notice', message: 'The tunnel box box stopped answering; moving the session to another box…' });
    await flow.end('test over');
    expect(calls).toEqual([
      'lease', 'tunnel to box:20001', 'declare undefined', 'tunnel to box:20001', 'lease avoiding box-1', 'tunnel to box-b:20002', 'move s1 to l2',
      // The session holds the new lease, so ending it releases that one; the tunnel closed is the new one.
      'end session', 'close tunnel to box-b:20002', 'dismiss',
    ]);
  });

  it('sends no heartbeat while a move is in flight, and beats again once it is done', async () => {
    const calls: string[] = [];
    const api = memoryApi(calls);
    const { backend } = memoryBackend(calls);
    const { openTunnel, drop } = boxes(calls);
    let moving = false;
    let answerMove = () => {};
    const flow = new HostFlow({
      api: {
        ...api,
        async moveSession(id, leaseId) {
          moving = true;
          await new Promise<void>((resolve) => { answerMove = resolve; });
          moving = false;
          return api.moveSession(id, leaseId);
        },
        heartbeat: async (id) => { calls.push(moving ? 'heartbeat during the move' : 'heartbeat'); return api.heartbeat(id); },
      },
      backend: { ...backend, openTunnel }, guests, emit: () => {}, pollGuestsMs: 3_600_000, heartbeatMs: 10, recovery: quickRecovery,
    });
    await flow.start();
    await eventually(() => calls.includes('heartbeat'), 'the heartbeats going');
    drop('box:20001');
    await eventually(() => moving, 'the move sent');
    // Ten beats' time with the move unanswered.
    await new Promise((resolve) => setTimeout(resolve, 100));
    answerMove();
    await eventually(() => calls.slice(calls.indexOf('move s1 to l2')).includes('heartbeat'), 'a heartbeat after the move');
    await flow.end('test over');
    expect(calls).not.toContain('heartbeat during the move');
  });

  it('ends a session that ends during its move only once the move is answered, and closes the new tunnel', async () => {
    const calls: string[] = [];
    const events: HostEvent[] = [];
    const api = memoryApi(calls);
    const { backend } = memoryBackend(calls);
    const { openTunnel, drop } = boxes(calls);
    let answerMove = () => {};
    const flow = new HostFlow({
      api: {
        ...api,
        async moveSession(id, leaseId) {
          await new Promise<void>((resolve) => { answerMove = resolve; });
          return api.moveSession(id, leaseId);
        },
      },
      backend: { ...backend, openTunnel }, guests, emit: (event) => events.push(event), pollGuestsMs: 3_600_000, heartbeatMs: 3_600_000, recovery: quickRecovery,
    });
    await flow.start();
    drop('box:20001');
    await eventually(() => calls.includes('tunnel to box-b:20002'), 'the tunnel open on the new box');
    const ended = flow.end('the terminal closed (SIGHUP)');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).not.toContain('end session');
    answerMove();
    await ended;
    await eventually(() => calls.includes('close tunnel to box-b:20002'), 'the new tunnel closed');
    expect(calls.indexOf('end session')).toBeGreaterThan(calls.indexOf('move s1 to l2'));
    expect(events.some((event) => event.type === 'moved')).toBe(false);
  });

  it('when one step fails, the steps beside it settle and everything they did is undone', async () => {
    const calls: string[] = [];
    const api = memoryApi(calls);
    const { backend } = memoryBackend(calls);
    const events: HostEvent[] = [];
    const flow = new HostFlow({
      api: { ...api, publicKeys: async (username) => { await eventually(() => calls.includes('tmux'), 'tmux started'); throw new Error(`no keys for ${username}`); } },
      backend: { ...backend, startTmux: async () => void calls.push('tmux'), stopTmux: async () => void calls.push('stop tmux') },
      guests, emit: (event) => events.push(event),
    });
    await expect(flow.start()).rejects.toThrow('Cannot invite: alice: no keys for alice; bob: no keys for bob.');
    // Leased and tmux started beside the keys; never tunnelled, since nobody could be let in.
    expect(new Set(calls)).toEqual(new Set(['lease', 'tmux', 'give back', 'stop tmux']));
    expect(events.at(-1)).toEqual({ type: 'ended', reason: 'set-up failed', problems: [] });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:net';
import { freePort } from '@tmuxme/testing';
import { chooseJoinPath, tcpAnswer } from './join-path.js';

let listener: Server;
let open: number;

beforeAll(async () => {
  listener = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  open = (listener.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
});

const session = (port: number, extra: { private?: boolean; tunnelHost?: string } = {}) => ({ tunnelHost: '127.0.0.1', tunnelPort: 2222, port, private: false, ...extra });

describe('choosing the way in', () => {
  it('takes the session\'s port when a TCP connection to it opens', async () => {
    expect(await chooseJoinPath(session(open), { viaSshPort: false }))
      .toEqual({ route: 'port', message: `joining through 127.0.0.1:${open} (the session's port): it answered` });
  });

  it('goes through the SSH port when the session\'s port refuses, saying so', async () => {
    const closed = await freePort();
    expect(await tcpAnswer('127.0.0.1', closed, 1_500)).toBe('refused');
    expect(await chooseJoinPath(session(closed), { viaSshPort: false }))
      .toEqual({ route: 'ssh-port', message: `joining through 127.0.0.1:2222 (the SSH port): port ${closed} refused the connection` });
  });

  it('does not try the port of a private session, nor with --via-ssh-port', async () => {
    // An address nothing answers on: trying it would take the whole 1.5 s.
    const silent = { tunnelHost: '192.0.2.254' };
    const started = Date.now();
    expect(await chooseJoinPath(session(open, { ...silent, private: true }), { viaSshPort: false })).toEqual({
      route: 'ssh-port', message: 'joining through 192.0.2.254:2222 (the SSH port): the session is private, so its port answers only on the box',
    });
    expect(await chooseJoinPath(session(open, silent), { viaSshPort: true }))
      .toEqual({ route: 'ssh-port', message: 'joining through 192.0.2.254:2222 (the SSH port): as --via-ssh-port asks' });
    expect(Date.now() - started).toBeLessThan(500);
  });
});

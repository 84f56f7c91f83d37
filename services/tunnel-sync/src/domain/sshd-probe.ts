import { connect } from 'node:net';

/**
 * Whether an SSH server answers at the address: it sends its `SSH-2.0-…` identification first, before
 * the client says anything. A box whose sshd is down must not take new leases, whatever tunnel-sync does.
 */
export function sshdAnswers({ host, port }: { host: string; port: number }, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = '';
    const settle = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => settle(false));
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('SSH-')) settle(true);
      else if (received.length >= 4) settle(false);
    });
  });
}

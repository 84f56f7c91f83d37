import { connect } from 'node:net';
import type { PairingSession } from './api-client.js';

/** How long the session's own port gets to answer before the join goes through the box's SSH port. */
export const directAnswerMs = 1_500;

export type JoinRoute = 'port' | 'ssh-port';

export interface JoinPath {
  /** `port`: straight to the leased port; `ssh-port`: as the box's jump user, through its SSH port. */
  route: JoinRoute;
  /** Which way, and why, for stderr: `joining through box:2222 (the SSH port): port 31234 did not answer within 1.5 s`. */
  message: string;
}

export interface ChooseJoinPathOptions {
  /** `--via-ssh-port`: never try the session's port. */
  viaSshPort: boolean;
  answerWithinMs?: number;
}

type Where = Pick<PairingSession, 'private' | 'tunnelHost' | 'tunnelPort' | 'port'>;

/**
 * The session's own port when it answers, as the seed's command would go; else the box's SSH port,
 * which networks that let only a few ports out (22, 443) still let through. A private session's port
 * answers on the box alone, so it goes that way at once.
 */
export async function chooseJoinPath(session: Where, { viaSshPort, answerWithinMs = directAnswerMs }: ChooseJoinPathOptions): Promise<JoinPath> {
  const viaBox = (why: string): JoinPath => ({
    route: 'ssh-port', message: `joining through ${session.tunnelHost}:${session.tunnelPort} (the SSH port): ${why}`,
  });
  if (session.private) return viaBox("the session is private, so its port answers only on the box");
  if (viaSshPort) return viaBox('as --via-ssh-port asks');
  const answer = await tcpAnswer(session.tunnelHost, session.port, answerWithinMs);
  if (answer === 'answered') {
    return { route: 'port', message: `joining through ${session.tunnelHost}:${session.port} (the session's port): it answered` };
  }
  const reasons: Record<string, string> = {
    timeout: `did not answer within ${answerWithinMs / 1000} s`,
    refused: 'refused the connection',
  };
  return viaBox(`port ${session.port} ${reasons[answer] ?? `could not be reached (${answer})`}`);
}

/** Whether a TCP connection opens within `ms`: 'answered', 'timeout', or the error's code. */
export function tcpAnswer(host: string, port: number, ms: number): Promise<'answered' | 'timeout' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    // A firewall that drops packets makes connect wait for minutes: a silent port is as good as closed here.
    const timer = setTimeout(() => done('timeout'), ms);
    socket.once('connect', () => done('answered'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : error.code ?? error.message));
  });
}

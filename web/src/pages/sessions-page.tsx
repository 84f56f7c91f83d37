import type { Api, PairingSession } from '../api.js';
import { CodeBlock } from '../components/code-block.js';
import { PageTitle } from '../components/page-title.js';
import { formatDateTime } from '../format.js';
import { useLoad } from '../use-load.js';

/** A command and, when the host declared a key, its variant that trusts nothing else. */
function CommandAndPin({ command, pinned, pinnedIntro, what, pins }: { command: string; pinned?: string; pinnedIntro: string; what: string; pins: string }) {
  return (
    <>
      <CodeBlock code={command} what={what} />
      {pinned && (
        <>
          <p>{pinnedIntro}</p>
          <CodeBlock code={pinned} what={`${what} that pins ${pins}`} />
        </>
      )}
    </>
  );
}

/**
 * The direct commands first, then the way through the relay's SSH port for networks that let nothing
 * else out. A private session's port answers on the relay only, so it has the second way alone.
 */
function JoinCommands({ session, whose }: { session: PairingSession; whose: string }) {
  const bothKeys = 'Or, trusting only the relay’s and the host’s keys (no question about an unknown host):';
  if (session.private) {
    return (
      <>
        <p>
          This session is private: the host made its port reachable only through the relay’s SSH port ({session.tunnelPort}), and
          only for the guests it invites, so there is no direct command.
        </p>
        <p>Join with:</p>
        <CommandAndPin command={session.jumpJoinCommand} pinned={session.pinnedJumpJoinCommand} pinnedIntro={bothKeys}
          what={`the join command of ${whose}`} pins="both keys" />
      </>
    );
  }
  return (
    <>
      <p>Join with:</p>
      <CommandAndPin command={session.joinCommand} pinned={session.pinnedJoinCommand} what={`the join command of ${whose}`} pins="the host key"
        pinnedIntro="Or, trusting only the host key above (no question about an unknown host):" />
      <p>If your network lets only SSH’s port out, join through the relay’s SSH port ({session.tunnelPort}) instead:</p>
      <CommandAndPin command={session.jumpJoinCommand} pinned={session.pinnedJumpJoinCommand} pinnedIntro={bothKeys}
        what={`the SSH-port join command of ${whose}`} pins="both keys" />
    </>
  );
}

function SessionCard({ session }: { session: PairingSession }) {
  const guests = session.guests.map((g) => (g.access === 'ro' ? `${g.username} (watching)` : g.username)).join(', ');
  const title = session.role === 'host' ? 'You are hosting' : `Hosted by ${session.host.username}`;
  const whose = session.role === 'host' ? 'your session' : `${session.host.username}’s session`;
  return (
    <li className="card">
      <h3>{title}</h3>
      <dl>
        <dt>Guests</dt><dd>{guests || 'None'}</dd>
        <dt>Started</dt><dd><time dateTime={session.createdAt}>{formatDateTime(session.createdAt)}</time></dd>
        <dt>Host key fingerprint</dt>
        <dd>{session.hostKeyFingerprint ? <code>{session.hostKeyFingerprint}</code> : 'Not declared by the host'}</dd>
      </dl>
      <JoinCommands session={session} whose={whose} />
    </li>
  );
}

export function SessionsPage({ api }: { api: Pick<Api, 'listSessions'> }) {
  const sessions = useLoad(api.listSessions);
  return (
    <>
      <PageTitle>Sessions</PageTitle>
      <p>Live sessions you host or are invited to. Check the host key fingerprint when ssh asks about it for the first time.</p>
      <button type="button" className="button-small" onClick={sessions.reload}>Refresh</button>
      {sessions.error && <p className="form-error" role="alert">{sessions.error}</p>}
      {sessions.loading && !sessions.data && <p>Loading…</p>}
      {sessions.data?.length === 0 && <p>No live sessions. Host one with <code>tmuxme &lt;guest&gt;</code>.</p>}
      <ul className="cards">
        {sessions.data?.map((session) => <SessionCard key={session.id} session={session} />)}
      </ul>
    </>
  );
}

import type { Api, PairingSession } from '../api.js';
import { CodeBlock } from '../components/code-block.js';
import { PageTitle } from '../components/page-title.js';
import { formatDateTime } from '../format.js';
import { useLoad } from '../use-load.js';

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
      <p>Join with:</p>
      <CodeBlock code={session.joinCommand} what={`the join command of ${whose}`} />
      {session.pinnedJoinCommand && (
        <>
          <p>Or, trusting only the host key above (no question about an unknown host):</p>
          <CodeBlock code={session.pinnedJoinCommand} what={`the join command of ${whose} that pins the host key`} />
        </>
      )}
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

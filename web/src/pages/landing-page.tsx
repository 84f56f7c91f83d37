import { CodeBlock } from '../components/code-block.js';
import { PageTitle } from '../components/page-title.js';
import { Link } from '../router.js';

/** What tmux.me is and the three steps to a pairing session; the commands name this very server. */
export function LandingPage({ origin, signedIn }: { origin: string; signedIn: boolean }) {
  return (
    <>
      <PageTitle>tmux.me</PageTitle>
      <p className="lead">
        Pair on a terminal: you run <code>tmuxme alice</code>, and Alice joins your tmux session with one <code>ssh</code> command.
        She logs in with the SSH key she already has; nobody opens a port or shares a password.
      </p>
      <ol className="steps">
        <li>
          <h2>Sign up and add your SSH key</h2>
          <p>
            {signedIn
              ? <>Add your public key on the <Link to="/keys">SSH keys</Link> page.</>
              : <><Link to="/signup">Sign up</Link>, then paste your public key (the <code>.pub</code> file) on the SSH keys page.</>}
            {' '}Your guests do the same, so the server knows their keys.
          </p>
        </li>
        <li>
          <h2>Install the CLI and log in</h2>
          <p>It needs Node.js 20.19 or newer, tmux and the OpenSSH client; <code>tmuxme login</code> asks for your username and password.</p>
          <CodeBlock code="npm install -g @tmuxme/cli" what="the install command" />
          <CodeBlock code={`export TMUXME_SERVER=${origin}`} what="the server setting" />
          <CodeBlock code="tmuxme login" what="the login command" />
        </li>
        <li>
          <h2>Invite your guests</h2>
          <p>Name each guest by username; add <code>:ro</code> for one who may only watch.</p>
          <CodeBlock code="tmuxme alice bob:ro" what="the hosting command" />
          <p>
            Each guest gets an e-mail with the <code>ssh</code> command to join, and finds it on their <Link to="/sessions">Sessions</Link> page
            too, with the host key fingerprint to check.
          </p>
        </li>
      </ol>
    </>
  );
}

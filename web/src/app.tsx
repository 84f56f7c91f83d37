import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { watchSessionExpiry, type Api, type WebSession } from './api.js';
import { PageTitle } from './components/page-title.js';
import { messageOf } from './format.js';
import { KeysPage } from './pages/keys-page.js';
import { LandingPage } from './pages/landing-page.js';
import { LoginPage } from './pages/login-page.js';
import { SessionsPage } from './pages/sessions-page.js';
import { SettingsPage } from './pages/settings-page.js';
import { SignupPage } from './pages/signup-page.js';
import { TokensPage } from './pages/tokens-page.js';
import { Link, Redirect, useRouter } from './router.js';

const privatePaths = ['/sessions', '/keys', '/tokens', '/settings'];

/** A message for the page it is meant for, so changing page clears it. */
interface Notice { path: string; text: string }

function Header({ session, onLogout }: { session: WebSession | null | undefined; onLogout(): void }) {
  return (
    <header className="site-header">
      <Link to="/" className="brand">tmux.me</Link>
      <nav aria-label="Main">
        <ul>
          {session ? (
            <>
              <li><Link to="/sessions">Sessions</Link></li>
              <li><Link to="/keys">SSH keys</Link></li>
              <li><Link to="/tokens">API tokens</Link></li>
              <li><Link to="/settings">Settings</Link></li>
              <li><button type="button" className="link-button" onClick={onLogout}>Log out {session.username}</button></li>
            </>
          ) : session === null && (
            <>
              <li><Link to="/signup">Sign up</Link></li>
              <li><Link to="/login">Log in</Link></li>
            </>
          )}
        </ul>
      </nav>
    </header>
  );
}

export function App({ api: serverApi, origin }: { api: Api; origin: string }) {
  const { location, navigate } = useRouter();
  // undefined while the first GET /web/v1/session is out: neither signed in nor out yet.
  const [session, setSession] = useState<WebSession | null | undefined>(undefined);
  const [notice, setNotice] = useState<Notice | null>(null);
  const api = useMemo(() => watchSessionExpiry(serverApi, () => {
    setSession(null);
    setNotice({ path: '/login', text: 'Your login has expired; log in again.' });
  }), [serverApi]);

  useEffect(() => {
    serverApi.getSession().then(setSession, (error: unknown) => {
      setSession(null);
      setNotice({ path: window.location.pathname, text: messageOf(error) });
    });
  }, [serverApi]);

  // After a change of page, focus goes to its heading, as a screen reader expects of a new page.
  const mainRef = useRef<HTMLElement>(null);
  const shownPath = useRef(location.path);
  useEffect(() => {
    if (location.path !== shownPath.current) mainRef.current?.querySelector<HTMLElement>('h1')?.focus();
    shownPath.current = location.path;
  }, [location.path]);

  const logout = async () => {
    try {
      await api.logout();
      setSession(null);
      setNotice({ path: '/', text: 'You have logged out.' });
      navigate('/');
    } catch (error) {
      setNotice({ path: location.path, text: `Logging out failed: ${messageOf(error)}` });
    }
  };
  const deleted = () => {
    // The account is gone, so the cookie is worthless; clearing it is a courtesy that may fail.
    api.logout().catch(() => undefined);
    setSession(null);
    setNotice({ path: '/', text: 'Your account has been deleted, with its keys and tokens.' });
    navigate('/');
  };

  let page: ReactNode;
  if (privatePaths.includes(location.path) && !session) {
    page = session === null
      ? <Redirect to={`/login?next=${encodeURIComponent(location.path)}`} />
      : <p>Loading…</p>;
  } else {
    page = renderPage(location.path, { api, origin, session: session ?? null, onSignedIn: setSession, onDeleted: deleted });
  }
  return (
    <>
      <a className="skip-link" href="#main">Skip to the content</a>
      <Header session={session} onLogout={logout} />
      <main id="main" ref={mainRef} tabIndex={-1}>
        {notice?.path === location.path && <p className="notice" role="status">{notice.text}</p>}
        {page}
      </main>
      <footer className="site-footer">
        <p>tmux.me: terminal pairing over tmux and SSH.</p>
      </footer>
    </>
  );
}

interface PageContext {
  api: Api;
  origin: string;
  session: WebSession | null;
  onSignedIn(session: WebSession): void;
  onDeleted(): void;
}

function renderPage(path: string, { api, origin, session, onSignedIn, onDeleted }: PageContext): ReactNode {
  const username = session?.username ?? '';
  switch (path) {
    case '/': return <LandingPage origin={origin} signedIn={session !== null} />;
    case '/signup': return <SignupPage api={api} onSignedIn={onSignedIn} />;
    case '/login': return <LoginPage api={api} onSignedIn={onSignedIn} />;
    case '/sessions': return <SessionsPage api={api} />;
    case '/keys': return <KeysPage api={api} username={username} />;
    case '/tokens': return <TokensPage api={api} />;
    case '/settings': return <SettingsPage api={api} username={username} onDeleted={onDeleted} />;
    default:
      return (
        <>
          <PageTitle>Page not found</PageTitle>
          <p>There is no page at {path}. Try the <Link to="/">home page</Link>.</p>
        </>
      );
  }
}

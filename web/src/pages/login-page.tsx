import type { Api, WebSession } from '../api.js';
import { PageTitle } from '../components/page-title.js';
import { LoginForm } from '../forms/login-form.js';
import { Link, useRouter } from '../router.js';

/** Only a path on this site may follow a login: `?next=https://elsewhere` is ignored. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/sessions';
}

export function LoginPage({ api, onSignedIn }: { api: Pick<Api, 'login'>; onSignedIn(session: WebSession): void }) {
  const { location, navigate } = useRouter();
  const login = async (name: string, password: string) => {
    onSignedIn(await api.login(name, password));
    navigate(safeNext(location.search.get('next')), { replace: true });
  };
  return (
    <>
      <PageTitle>Log in</PageTitle>
      <p>New here? <Link to="/signup">Sign up</Link>.</p>
      <LoginForm onLogin={login} />
    </>
  );
}

import { useState } from 'react';
import type { Api, SignupInput, SignupResult, WebSession } from '../api.js';
import { PageTitle } from '../components/page-title.js';
import { TokenReveal } from '../components/token-reveal.js';
import { messageOf } from '../format.js';
import { SignupForm } from '../forms/signup-form.js';
import { Link } from '../router.js';

interface SignupPageProps {
  api: Pick<Api, 'signup' | 'login'>;
  onSignedIn(session: WebSession): void;
}

/** Signs up, logs straight in, and shows the account's first API token (named "default") the one time it exists. */
export function SignupPage({ api, onSignedIn }: SignupPageProps) {
  const [created, setCreated] = useState<{ account: SignupResult; loginError?: string } | null>(null);

  const signup = async (input: SignupInput) => {
    const account = await api.signup(input);
    try {
      onSignedIn(await api.login(account.username, input.password));
      setCreated({ account });
    } catch (error) {
      // The account exists either way; the token must still be shown now or never.
      setCreated({ account, loginError: messageOf(error) });
    }
  };

  if (!created) {
    return (
      <>
        <PageTitle>Sign up</PageTitle>
        <p>Already have an account? <Link to="/login">Log in</Link>.</p>
        <SignupForm onSignup={signup} />
      </>
    );
  }
  const { account, loginError } = created;
  return (
    <>
      <PageTitle>{`Welcome, ${account.username}`}</PageTitle>
      {loginError && <p className="form-error" role="alert">Logging in failed ({loginError}); <Link to="/login">log in</Link> after copying the token.</p>}
      <TokenReveal name="default" token={account.apiToken} />
      <p>Next: <Link to="/keys">add your SSH key</Link>, then install the CLI as the <Link to="/">home page</Link> shows.</p>
    </>
  );
}

import { useRef, useState } from 'react';
import type { Api, ApiToken, NewApiToken } from '../api.js';
import { ConfirmButton } from '../components/confirm-button.js';
import { PageTitle } from '../components/page-title.js';
import { TokenReveal } from '../components/token-reveal.js';
import { formatDate, formatDateTime, messageOf } from '../format.js';
import { CreateTokenForm } from '../forms/create-token-form.js';
import { useLoad } from '../use-load.js';

type TokensApi = Pick<Api, 'listTokens' | 'createToken' | 'revokeToken'>;

export function TokensPage({ api }: { api: TokensApi }) {
  const tokens = useLoad(api.listTokens);
  // Held only in this page's state: leaving the page or pressing "I have copied it" drops the secret for good.
  const [created, setCreated] = useState<NewApiToken | null>(null);
  const [status, setStatus] = useState('');
  const listTitle = useRef<HTMLHeadingElement>(null);

  const create = async (name: string) => {
    setCreated(await api.createToken(name));
    setStatus('');
    tokens.reload();
  };
  const dismiss = () => {
    setCreated(null);
    listTitle.current?.focus();
  };
  const revoke = async (token: ApiToken) => {
    try {
      await api.revokeToken(token.id);
      setStatus(`Revoked the token “${token.name}”; it no longer works.`);
    } catch (error) {
      setStatus(`The token “${token.name}” was not revoked: ${messageOf(error)}`);
    }
    listTitle.current?.focus();
    tokens.reload();
  };

  return (
    <>
      <PageTitle>API tokens</PageTitle>
      <p>The CLI logs in with an API token. Give each machine its own, so you can revoke one without the others.</p>
      {created && <TokenReveal name={created.name} token={created.token} onDone={dismiss} />}
      <section aria-labelledby="create-token-title">
        <h2 id="create-token-title">Create a token</h2>
        <CreateTokenForm onCreate={create} />
      </section>
      <p className="status" role="status">{status}</p>
      <section aria-labelledby="tokens-list-title">
        <h2 id="tokens-list-title" ref={listTitle} tabIndex={-1}>Your tokens</h2>
        {tokens.error && <p className="form-error" role="alert">{tokens.error}</p>}
        {tokens.loading && !tokens.data && <p>Loading…</p>}
        {tokens.data?.length === 0 && <p>No tokens: the CLI cannot log in until you create one.</p>}
        <ul className="cards">
          {tokens.data?.map((token) => (
            <li key={token.id} className="card">
              <h3>{token.name}</h3>
              <dl>
                <dt>Token</dt><dd><code>{token.hint}</code></dd>
                <dt>Created</dt><dd><time dateTime={token.createdAt}>{formatDate(token.createdAt)}</time></dd>
                <dt>Last used</dt>
                <dd>{token.lastUsedAt ? <time dateTime={token.lastUsedAt}>{formatDateTime(token.lastUsedAt)}</time> : 'Never'}</dd>
              </dl>
              <ConfirmButton label="Revoke" question={`Revoke the token “${token.name}”?`} confirmLabel="Yes, revoke it"
                onConfirm={() => revoke(token)} />
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

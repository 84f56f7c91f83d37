import { useRef, useState } from 'react';
import type { Api, SshKey } from '../api.js';
import { ConfirmButton } from '../components/confirm-button.js';
import { PageTitle } from '../components/page-title.js';
import { formatDate, messageOf } from '../format.js';
import { AddKeyForm } from '../forms/add-key-form.js';
import { useLoad } from '../use-load.js';

type KeysApi = Pick<Api, 'listKeys' | 'addKey' | 'removeKey'>;

export function KeysPage({ api, username }: { api: KeysApi; username: string }) {
  const keys = useLoad(api.listKeys);
  const [status, setStatus] = useState('');
  const listTitle = useRef<HTMLHeadingElement>(null);
  const publicUrl = `/${encodeURIComponent(username)}.keys`;

  const add = async (input: { title?: string; key: string }) => {
    const key = await api.addKey(input);
    setStatus(`Added the key “${key.title}”.`);
    keys.reload();
  };
  const remove = async (key: SshKey) => {
    try {
      await api.removeKey(key.id);
      setStatus(`Removed the key “${key.title}”.`);
    } catch (error) {
      setStatus(`The key “${key.title}” was not removed: ${messageOf(error)}`);
    }
    // Its row (and the button that had focus) is gone; the list's heading is the nearest place to land.
    listTitle.current?.focus();
    keys.reload();
  };

  return (
    <>
      <PageTitle>SSH keys</PageTitle>
      <p>
        Guests log in to your sessions with these keys, and you with theirs. Anyone can read them, like GitHub's,
        at <a href={publicUrl}>{publicUrl}</a>.
      </p>
      <p className="status" role="status">{status}</p>
      <section aria-labelledby="keys-list-title">
        <h2 id="keys-list-title" ref={listTitle} tabIndex={-1}>Your keys</h2>
        {keys.error && <p className="form-error" role="alert">{keys.error}</p>}
        {keys.loading && !keys.data && <p>Loading…</p>}
        {keys.data?.length === 0 && <p>No keys yet: add one below.</p>}
        <ul className="cards">
          {keys.data?.map((key) => (
            <li key={key.id} className="card">
              <h3>{key.title}</h3>
              <dl>
                <dt>Type</dt><dd>{key.type}</dd>
                <dt>Fingerprint</dt><dd><code>{key.fingerprint}</code></dd>
                <dt>Added</dt><dd><time dateTime={key.createdAt}>{formatDate(key.createdAt)}</time></dd>
              </dl>
              <ConfirmButton label="Remove" question={`Remove the key “${key.title}”?`} confirmLabel="Yes, remove it"
                onConfirm={() => remove(key)} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="add-key-title">
        <h2 id="add-key-title">Add a key</h2>
        <AddKeyForm onAdd={add} />
      </section>
    </>
  );
}

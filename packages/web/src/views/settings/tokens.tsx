/** Tokens: yours (every one of the workspace for owners and admins); create (shown once) and revoke. */
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { TokenInfo } from '@gantry/protocol';
import { errorText, request, segment } from '../../api/client.ts';
import { keys, useTokens } from '../../api/resources.ts';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { Time } from '../../ui/time.tsx';
import { parseDuration } from '../assignments/duration-input.ts';
import { OnceSecret } from './secret.tsx';

export function Tokens() {
  const client = useQueryClient();
  const tokens = useTokens();
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<string>();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    const expiresInMs = expires.trim() ? parseDuration(expires) : undefined;
    if (expires.trim() && !expiresInMs) {
      setError(`"${expires}" is not a duration: use 30m, 12h, 720h or a number of seconds`);
      return;
    }
    try {
      const created = await request<{ token: TokenInfo; secret: string }>('/v1/tokens', {
        method: 'POST',
        body: expiresInMs ? { expiresInMs } : {},
      });
      setSecret(created.secret);
      setExpires('');
      await client.invalidateQueries({ queryKey: keys.tokens });
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async (token: TokenInfo) => {
    const warning = token.current
      ? 'This is the token you signed in with: revoking it signs you out. Revoke it?'
      : `Revoke ${token.id} of ${token.owner}? Everything using it stops at once.`;
    if (!window.confirm(warning)) return;
    setError(undefined);
    try {
      await request(`/v1/tokens/${segment(token.id)}/revoke`, { method: 'POST' });
      await client.invalidateQueries({ queryKey: keys.tokens });
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section className="card settings-section" id="tokens" aria-labelledby="tokens-title">
      <h2 id="tokens-title" className="card-title">
        Tokens
      </h2>
      {tokens.error ? (
        <ErrorNote error={tokens.error} />
      ) : !tokens.data ? (
        <Loading what="tokens" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Kind</th>
              <th scope="col">Owner</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.id}>
                <td data-label="Token">
                  <code>{t.id}</code>
                  {t.current && <span className="muted"> (this session)</span>}
                </td>
                <td data-label="Kind">{t.kind}</td>
                <td data-label="Owner">{t.owner}</td>
                <td data-label="Last used">
                  <Time iso={t.lastUsedAt} />
                </td>
                <td data-label="Expires">{t.expiresAt ? new Date(t.expiresAt).toLocaleString() : 'never'}</td>
                <td data-label="State">
                  {t.revoked ? (
                    <Status value="denied" text="revoked" />
                  ) : (
                    <Status value="live" text="active" />
                  )}
                </td>
                <td data-label="Actions">
                  {!t.revoked && (
                    <button
                      type="button"
                      className="button small ghost"
                      onClick={() => void revoke(t)}
                      aria-label={`Revoke ${t.id}`}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {secret && <OnceSecret secret={secret} what="Your new token" onDone={() => setSecret(undefined)} />}
      <form className="toolbar-form" onSubmit={(e) => void create(e)} aria-label="Create a token">
        <label className="field">
          <span>Expires after</span>
          <input value={expires} placeholder="never" onChange={(e) => setExpires(e.target.value)} />
        </label>
        <button type="submit" className="button primary">
          Create token
        </button>
      </form>
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

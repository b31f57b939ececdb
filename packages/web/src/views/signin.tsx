/**
 * Sign in with a user token (gnt_u_...), or by a one-time link from `gantry dashboard`
 * (`/signin#code=...`: the code is in the fragment, so it never reaches a server log).
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.ts';
import { signIn } from '../api/session.ts';
import { restartLive } from '../live/live.ts';
import { navigate } from '../router.ts';

export function SignIn() {
  const client = useQueryClient();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const usedCode = useRef(false);

  const done = () => {
    restartLive();
    if (location.pathname === '/signin') navigate('/', { replace: true });
  };

  useEffect(() => {
    const code = new URLSearchParams(location.hash.slice(1)).get('code');
    if (!code || usedCode.current) return;
    usedCode.current = true;
    // Out of the address bar and history at once: it is spent either way.
    history.replaceState(null, '', location.pathname);
    setBusy(true);
    signIn(client, { code })
      .then(done)
      .catch((err: unknown) => setError(errorText(err)))
      .finally(() => setBusy(false));
  }, [client]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      await signIn(client, { token: token.trim() });
      done();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="center-page">
      <form className="card signin" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <div className="brand brand-large">
          <Logo />
          <span>Gantry</span>
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">
          Paste a user token (<code>gnt_u_…</code>), or run <code>gantry dashboard</code> for a one-time link.
        </p>
        <label className="field">
          <span>Token</span>
          <input
            type="password"
            name="token"
            autoComplete="off"
            spellCheck={false}
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </label>
        {error && (
          <p className="note note-bad" role="alert">
            {error}
          </p>
        )}
        <button className="button primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

export function Logo() {
  // The same drawing as public/icon.svg (scripts/make-icons.mjs): a gantry crane with its load.
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect x="2" y="2" width="28" height="28" rx="7" className="logo-bg" />
      <path d="M8 10H24M10.5 10V23M21.5 10V23" className="logo-line" />
      <path d="M16 10V14" className="logo-line logo-thin" />
      <path d="M14.5 17.5H17.5" className="logo-line logo-load" />
    </svg>
  );
}

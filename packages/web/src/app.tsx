/**
 * Signed in or not: the sign-in page (also for a one-time link from `gantry dashboard`, which
 * lands on `/signin#code=...`), else the dashboard. A 401 from anywhere means the session ended
 * (signed out in another tab, token revoked): ask the hub again.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { setUnauthorizedHandler } from './api/client.ts';
import { forgetData, sessionKey, useSession } from './api/session.ts';
import { useLive } from './live/live.ts';
import { Shell } from './shell.tsx';
import { ErrorNote, Loading } from './ui/states.tsx';
import { SignIn } from './views/signin.tsx';

export function App() {
  const client = useQueryClient();
  const session = useSession();
  const live = useLive();

  useEffect(() => {
    setUnauthorizedHandler(() => void client.invalidateQueries({ queryKey: sessionKey }));
  }, [client]);

  useEffect(() => {
    if (session.data === null) forgetData(client);
  }, [session.data, client]);

  // The shared stream stopped because the session is over (here or in another tab).
  useEffect(() => {
    if (live.status === 'signed-out') void client.invalidateQueries({ queryKey: sessionKey });
  }, [live.status, client]);

  if (session.isPending)
    return (
      <main className="center-page">
        <Loading what="your session" />
      </main>
    );
  if (session.error)
    return (
      <main className="center-page">
        <ErrorNote error={session.error} />
      </main>
    );
  if (!session.data) return <SignIn />;
  return <Shell session={session.data} />;
}

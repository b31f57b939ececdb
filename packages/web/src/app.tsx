/**
 * Signed in or not: the sign-in page (also for a one-time link from `gantry dashboard`, which
 * lands on `/signin#code=...`), else the dashboard. A 401 from anywhere means the session ended
 * (signed out in another tab, token revoked): ask the hub again.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { setUnauthorizedHandler } from './api/client.ts';
import { forgetData, sessionKey, useSession, type WebSession } from './api/session.ts';
import { applyLive } from './live/apply.ts';
import { connectLive, useLive } from './live/live.ts';
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
        <ErrorNote
          error={session.error}
          action={
            <button type="button" className="button" onClick={() => void session.refetch()}>
              Try again
            </button>
          }
        />
      </main>
    );
  if (!session.data) return <SignIn />;
  return <Connected session={session.data} />;
}

/** How long the dashboard waits for the live stream before it shows data anyway. */
const streamWaitMs = 2_000;

/**
 * Joins the browser's activity stream, then shows the dashboard: data read after the stream stands
 * misses nothing, so it is read once. A stream slow to come still lets the dashboard show after a
 * moment; its first entries then refresh what was read.
 */
function Connected({ session }: { session: WebSession }) {
  const client = useQueryClient();
  const live = useLive();
  const [waited, setWaited] = useState(false);
  useEffect(() => {
    const off = applyLive(client);
    connectLive();
    const timer = setTimeout(() => setWaited(true), streamWaitMs);
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [client]);
  if (live.lastEventId === undefined && !waited)
    return (
      <main className="center-page">
        <Loading what="the dashboard" />
      </main>
    );
  return <Shell session={session} />;
}

/**
 * The browser session (the hub's `/v1/web/session`): an HttpOnly cookie the hub maps to a user, and
 * a CSRF token this tab keeps in memory. No bearer token is ever stored in the browser.
 */
import { useQuery, type QueryClient } from '@tanstack/react-query';
import type { WebSession } from '@gantry/protocol';
import { ApiError, request, setCsrfToken } from './client.ts';

export type { WebSession };

export const sessionKey = ['session'] as const;

/** The signed-in session, or null when nobody is signed in. */
async function fetchSession(): Promise<WebSession | null> {
  try {
    const session = await request<WebSession>('/v1/web/session', { quiet401: true });
    setCsrfToken(session.csrfToken);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken(undefined);
      return null;
    }
    throw err;
  }
}

export function useSession() {
  return useQuery({ queryKey: sessionKey, queryFn: fetchSession, staleTime: Infinity, retry: 1 });
}

/** The session every signed-in view runs under (the shell renders only once there is one). */
export function useMe(): WebSession {
  const { data } = useSession();
  if (!data) throw new Error('useMe outside a signed-in view');
  return data;
}

/** Signs in with a user token or a one-time code from `gantry dashboard`. */
export async function signIn(client: QueryClient, credential: { token: string } | { code: string }) {
  const session = await request<WebSession>('/v1/web/session', {
    method: 'POST',
    body: credential,
    quiet401: true,
  });
  setCsrfToken(session.csrfToken);
  client.setQueryData(sessionKey, session);
  return session;
}

export async function signOut(client: QueryClient): Promise<void> {
  try {
    await request('/v1/web/session', { method: 'DELETE', quiet401: true });
  } finally {
    setCsrfToken(undefined);
    client.setQueryData(sessionKey, null);
    forgetData(client);
  }
}

/** Nobody is signed in: nothing of the last user's stays in memory for the next one to see. */
export function forgetData(client: QueryClient): void {
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
}

export function isAdmin(session: WebSession): boolean {
  return session.user.role === 'owner' || session.user.role === 'admin';
}

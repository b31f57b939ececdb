/**
 * A tiny client-side router over the History API: the hub serves index.html for every unknown
 * path, so `/agents/scout` loads the app and this picks the view. No library needed for a dozen routes.
 */
import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current path and query, e.g. `/assignments?state=failed`. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const [path = '/', query = ''] = href.split('?');
  return { path, search: new URLSearchParams(query) };
}

export function navigate(to: string, { replace = false } = {}): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
  window.scrollTo(0, 0);
}

/** Changes one query parameter of the current path (filters), without a new history entry. */
export function setQuery(name: string, value: string | undefined): void {
  const search = new URLSearchParams(location.search);
  if (value) search.set(name, value);
  else search.delete(name);
  const query = search.toString();
  history.replaceState(null, '', location.pathname + (query ? `?${query}` : ''));
  notify();
}

/** `/agents/:name` against `/agents/scout` -> `{ name: 'scout' }`; undefined when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = (path.replace(/\/+$/, '') || '/').split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = got[i] ?? '';
    if (part.startsWith(':')) {
      if (!value) return undefined;
      params[part.slice(1)] = decodeURIComponent(value);
    } else if (part !== value) return undefined;
  }
  return params;
}

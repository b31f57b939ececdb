/** One polite live region for the whole app: screen readers hear new needs-you items and outcomes. */
import { useSyncExternalStore } from 'react';

let message = '';
const listeners = new Set<() => void>();

export function announce(text: string): void {
  // The same text twice must still be read out: clear first, then set on the next frame.
  message = '';
  for (const l of listeners) l();
  requestAnimationFrame(() => {
    message = text;
    for (const l of listeners) l();
  });
}

export function Announcer() {
  const text = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => message,
  );
  return (
    <div className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
      {text}
    </div>
  );
}

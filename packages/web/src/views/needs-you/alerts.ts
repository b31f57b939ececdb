/**
 * New needs-you items are announced to screen readers (aria-live) and, with permission, shown as
 * a desktop notification — by one tab only (whichever holds a Web Lock), not once per open tab.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { navigate } from '../../router.ts';
import { announce } from '../../ui/announcer.tsx';
import type { NeedItem, Needs } from './needs.ts';

let notifier = !('locks' in navigator);
if ('locks' in navigator) {
  void navigator.locks.request('gantry-notify', () => {
    notifier = true;
    return new Promise<void>(() => {});
  });
}

export function useNeedsAlerts({ items, loading }: Needs): void {
  const known = useRef<Set<string> | undefined>(undefined);
  useEffect(() => {
    // The first full list is what was already waiting: only what comes after it is news.
    if (!known.current) {
      if (!loading) known.current = new Set(items.map((i) => i.id));
      return;
    }
    const fresh = items.filter((i) => !known.current?.has(i.id));
    known.current = new Set(items.map((i) => i.id));
    if (fresh.length === 0) return;
    announce(
      fresh.length === 1
        ? `Needs you: ${describe(fresh[0] as NeedItem)}`
        : `${fresh.length} new items need you, the first: ${describe(fresh[0] as NeedItem)}`,
    );
    if (notifier && 'Notification' in window && Notification.permission === 'granted') {
      for (const item of fresh.slice(0, 3)) {
        const note = new Notification(`Needs you: ${item.kindLabel}`, {
          body: `${item.agent.name}: ${item.title}`,
          tag: item.id,
        });
        note.onclick = () => {
          window.focus();
          navigate('/');
        };
      }
    }
  }, [items, loading]);
}

function describe(item: NeedItem): string {
  return `${item.kindLabel} for ${item.agent.name}: ${item.title}`;
}

type Permission = NotificationPermission | 'unsupported';

const permissionListeners = new Set<() => void>();

export function useNotificationPermission(): [Permission, () => void] {
  const permission = useSyncExternalStore(
    (l) => {
      permissionListeners.add(l);
      return () => permissionListeners.delete(l);
    },
    (): Permission => ('Notification' in window ? Notification.permission : 'unsupported'),
  );
  const ask = () => {
    void Notification.requestPermission().then(() => {
      for (const l of permissionListeners) l();
    });
  };
  return [permission, ask];
}

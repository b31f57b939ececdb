/**
 * Assignments the signed-in user started that did not succeed (failed, timed out, expired): Retry
 * runs the same work again, Dismiss takes it off the list (remembered in this browser, for every tab).
 */
import { useQueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import type { Assignment } from '@gantry/protocol';
import { request } from '../../api/client.ts';
import { useAssignments } from '../../api/resources.ts';
import { useMe } from '../../api/session.ts';
import { announce } from '../../ui/announcer.tsx';
import { label } from '../../ui/status.tsx';
import type { NeedItem, NeedSource } from './needs.ts';

const storageKey = (userId: string) => `gantry.dismissed.${userId}`;

function readDismissed(userId: string): string {
  return localStorage.getItem(storageKey(userId)) ?? '[]';
}

function useDismissed(userId: string): Set<string> {
  // The `storage` event carries a dismissal to every other tab.
  const raw = useSyncExternalStore(
    (l) => {
      window.addEventListener('storage', l);
      window.addEventListener('gantry-dismissed', l);
      return () => {
        window.removeEventListener('storage', l);
        window.removeEventListener('gantry-dismissed', l);
      };
    },
    () => readDismissed(userId),
  );
  return new Set(JSON.parse(raw) as string[]);
}

function dismiss(userId: string, id: string): void {
  // Keep the newest few hundred: older failures are off the list anyway.
  const ids = [...(JSON.parse(readDismissed(userId)) as string[]).filter((x) => x !== id), id].slice(-500);
  localStorage.setItem(storageKey(userId), JSON.stringify(ids));
  window.dispatchEvent(new Event('gantry-dismissed'));
}

export function retryBody(a: Assignment) {
  return {
    agent: a.agent.id,
    prompt: a.prompt,
    sessionKey: a.sessionKey,
    mode: a.mode,
    resumeFallback: a.resumeFallback,
    timeoutMs: a.timeoutMs,
    retries: a.retries,
  };
}

export function useFailedRunNeeds(): NeedSource {
  const me = useMe();
  const client = useQueryClient();
  const failed = useAssignments({ state: 'failed', limit: 100 });
  const timedOut = useAssignments({ state: 'timed_out', limit: 100 });
  const expired = useAssignments({ state: 'expired', limit: 100 });
  const dismissed = useDismissed(me.user.id);
  const mine = `user:${me.user.id}`;

  const all = [...(failed.data ?? []), ...(timedOut.data ?? []), ...(expired.data ?? [])];
  const items = all
    .filter((a) => a.createdBy === mine && !dismissed.has(a.id))
    .map((a): NeedItem => ({
      id: `run:${a.id}`,
      kind: 'failed_assignment',
      kindLabel: `Assignment ${label(a.state)}`,
      createdAt: a.finishedAt ?? a.updatedAt,
      agent: a.agent,
      title: head(a.prompt),
      details: [
        { label: 'Agent', value: a.agent.name },
        ...(a.error ? [{ label: 'Error', value: `${a.error.message} (${a.error.code})` }] : []),
      ],
      href: `/assignments/${a.id}`,
      actions: [
        {
          label: 'Retry',
          tone: 'primary',
          shortcut: 'a',
          run: async () => {
            const next = await request<Assignment>('/v1/assignments', { method: 'POST', body: retryBody(a) });
            dismiss(me.user.id, a.id);
            announce(`Assigned again to ${a.agent.name}`);
            void client.invalidateQueries({ queryKey: ['assignments'] });
            return next;
          },
        },
        {
          label: 'Dismiss',
          tone: 'plain',
          shortcut: 'd',
          run: () => {
            dismiss(me.user.id, a.id);
            return Promise.resolve();
          },
        },
      ],
    }));
  const queries = [failed, timedOut, expired];
  return {
    items,
    loading: queries.some((q) => q.isPending),
    error: queries.find((q) => q.error)?.error,
  };
}

function head(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 140 ? `${line.slice(0, 139)}…` : line;
}

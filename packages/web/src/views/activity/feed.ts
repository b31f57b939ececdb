/**
 * The Activity feed's data: recent history read once from `GET /v1/events?since=`, then every
 * entry the live stream brings appended in place (never re-read). "Earlier" pages further back.
 */
import { useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import type { ActivityEvent } from '@gantry/protocol';
import { request } from '../../api/client.ts';
import { useLive } from '../../live/live.ts';

export interface Feed {
  entries: ActivityEvent[];
  /** The id history was read from: entries at or before it are "earlier". */
  from: number;
}

export const feedKey = ['activity'] as const;
const pageSize = 1000;
/** The most entries one tab keeps; the oldest go first. */
const maxEntries = 50_000;

export function appendActivity(client: QueryClient, entries: ActivityEvent[]): void {
  client.setQueryData<Feed>(feedKey, (feed) => {
    if (!feed) return feed;
    const last = feed.entries.at(-1)?.id ?? feed.from;
    const fresh = entries.filter((e) => e.id > last);
    if (fresh.length === 0) return feed;
    const all = [...feed.entries, ...fresh];
    return { ...feed, entries: all.length > maxEntries ? all.slice(-maxEntries) : all };
  });
}

async function page(since: number, limit: number): Promise<ActivityEvent[]> {
  return request<ActivityEvent[]>(`/v1/events?since=${since}&limit=${limit}`);
}

export function useFeed() {
  const client = useQueryClient();
  const { lastEventId } = useLive();
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  const feed = useQuery({
    queryKey: feedKey,
    // Where the live stream stands is where history ends.
    enabled: lastEventId !== undefined,
    queryFn: async (): Promise<Feed> => {
      const from = Math.max(0, (lastEventId ?? 0) - pageSize);
      return { from, entries: await page(from, 10_000) };
    },
  });

  const loadEarlier = useCallback(async () => {
    const current = client.getQueryData<Feed>(feedKey);
    if (!current || current.from === 0) return;
    setLoadingEarlier(true);
    try {
      const from = Math.max(0, current.from - pageSize * 5);
      const older = (await page(from, 10_000)).filter((e) => e.id <= current.from);
      client.setQueryData<Feed>(feedKey, (feed) =>
        feed ? { from, entries: [...older, ...feed.entries.filter((e) => e.id > current.from)] } : feed,
      );
    } finally {
      setLoadingEarlier(false);
    }
  }, [client]);

  return { feed, loadEarlier, loadingEarlier };
}

/**
 * Activity: the workspace's live feed, newest at the bottom, with type and actor filters. The list
 * is virtualised (only the rows on screen exist), so 10,000 entries scroll like 10.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ActivityEvent } from '@gantry/protocol';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { Empty, ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';
import { describe, linkOf } from './describe.ts';
import { useFeed } from './feed.ts';

const rowHeight = 56;

export function Activity() {
  const { feed, loadEarlier, loadingEarlier } = useFeed();
  const [type, setType] = useState('');
  const [actor, setActor] = useState('');
  const entries = useMemo(() => feed.data?.entries ?? [], [feed.data]);
  const types = useMemo(() => [...new Set(entries.map((e) => e.type.split('.')[0] ?? ''))].sort(), [entries]);
  const actors = useMemo(
    () => [...new Set(entries.map((e) => e.actor?.name).filter((n): n is string => !!n))].sort(),
    [entries],
  );
  const shown = useMemo(
    () =>
      entries.filter(
        (e) =>
          (!type || e.type === type || e.type.startsWith(`${type}.`)) && (!actor || e.actor?.name === actor),
      ),
    [entries, type, actor],
  );

  return (
    <Page
      title="Activity"
      subtitle={
        feed.data
          ? `${shown.length.toLocaleString()} of ${entries.length.toLocaleString()} entries, live`
          : undefined
      }
    >
      <div className="toolbar" role="group" aria-label="Filters">
        <label className="field inline">
          <span>Type</span>
          <select value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">All types</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>Actor</span>
          <select value={actor} onChange={(e) => setActor(e.target.value)}>
            <option value="">Everyone</option>
            {actors.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        {feed.data && feed.data.from > 0 && (
          <button
            type="button"
            className="button"
            disabled={loadingEarlier}
            onClick={() => void loadEarlier()}
          >
            {loadingEarlier ? 'Loading…' : 'Load earlier'}
          </button>
        )}
      </div>
      {feed.error ? (
        <ErrorNote error={feed.error} />
      ) : !feed.data ? (
        <Loading what="activity" />
      ) : shown.length === 0 ? (
        <Empty title="Nothing here yet.">Messages, tasks, runs and approvals appear as they happen.</Empty>
      ) : (
        <FeedList entries={shown} />
      )}
    </Page>
  );
}

function FeedList({ entries }: { entries: ActivityEvent[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Virtual's functions cannot be memoised by the React compiler; nothing here is compiled
  const virtual = useVirtualizer({
    count: entries.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 8,
  });

  // Follow new entries while scrolled to the bottom, as a feed should; stay put when reading above.
  useEffect(() => {
    if (stick.current && entries.length > 0) virtual.scrollToIndex(entries.length - 1, { align: 'end' });
  }, [entries.length, virtual]);

  return (
    <div
      ref={scroller}
      className="feed"
      tabIndex={0}
      role="region"
      aria-label="Activity entries"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < rowHeight;
      }}
    >
      <ol className="feed-inner" style={{ height: virtual.getTotalSize() }}>
        {virtual.getVirtualItems().map((row) => {
          const entry = entries[row.index] as ActivityEvent;
          const to = linkOf(entry);
          return (
            <li
              key={entry.id}
              className="feed-row"
              data-index={row.index}
              ref={virtual.measureElement}
              style={{ transform: `translateY(${row.start}px)` }}
            >
              <span className="feed-type">{entry.type}</span>
              <span className="feed-main">
                <span className="feed-actor">{entry.actor?.name ?? 'hub'}</span>{' '}
                {to ? <Link to={to}>{describe(entry) || entry.type}</Link> : <span>{describe(entry)}</span>}
              </span>
              <span className="feed-time muted small-text">
                <Time iso={entry.ts} />
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

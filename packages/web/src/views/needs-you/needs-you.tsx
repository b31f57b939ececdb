/** The home view: everything waiting on a person, oldest first, each with its actions. */
import { useState } from 'react';
import { errorText } from '../../api/client.ts';
import { useListKeys } from '../../keys/list-keys.ts';
import { navigate } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { Empty, ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';
import { useNotificationPermission } from './alerts.ts';
import { useNeeds, type NeedAction, type NeedItem } from './needs.ts';

export function NeedsYou() {
  const needs = useNeeds();
  const [permission, askPermission] = useNotificationPermission();
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const [failures, setFailures] = useState<Record<string, string>>({});

  const act = async (item: NeedItem, action: NeedAction | undefined) => {
    if (!action || busy[item.id]) return;
    setBusy((b) => ({ ...b, [item.id]: true }));
    setFailures(({ [item.id]: _, ...rest }) => rest);
    try {
      await action.run();
    } catch (err) {
      setFailures((f) => ({ ...f, [item.id]: `${action.label} failed: ${errorText(err)}` }));
    } finally {
      setBusy(({ [item.id]: _, ...rest }) => rest);
    }
  };
  const byShortcut = (index: number, key: 'a' | 'd') => {
    const item = needs.items[index];
    if (item)
      void act(
        item,
        item.actions.find((a) => a.shortcut === key),
      );
  };
  const list = useListKeys({
    count: needs.items.length,
    onOpen: (i) => {
      const href = needs.items[i]?.href;
      if (href) navigate(href);
    },
    onApprove: (i) => byShortcut(i, 'a'),
    onDeny: (i) => byShortcut(i, 'd'),
  });

  return (
    <Page
      title="Needs you"
      subtitle="Everything waiting on a person, oldest first."
      actions={
        permission === 'default' && (
          <button type="button" className="button" onClick={askPermission}>
            Turn on notifications
          </button>
        )
      }
    >
      {needs.errors.map((error, i) => (
        <ErrorNote key={i} error={error} />
      ))}
      {needs.loading && needs.items.length === 0 ? (
        <Loading what="what needs you" />
      ) : needs.items.length === 0 ? (
        <Empty title="Nothing needs you right now.">
          Tool requests, device and folder approvals, chains stopped at their limit, and runs of yours that
          failed show up here as they happen.
        </Empty>
      ) : (
        <ul className="needs" aria-label="Waiting on you">
          {needs.items.map((item, index) => (
            <li
              key={item.id}
              className={index === list.selected ? 'need card selected' : 'need card'}
              {...list.item(index)}
            >
              <NeedCard
                item={item}
                busy={!!busy[item.id]}
                failure={failures[item.id]}
                act={(a) => void act(item, a)}
              />
            </li>
          ))}
        </ul>
      )}
      <p className="muted hint">
        <kbd>j</kbd> <kbd>k</kbd> select · <kbd>a</kbd> approve · <kbd>d</kbd> deny · <kbd>Enter</kbd> open
      </p>
    </Page>
  );
}

function NeedCard({
  item,
  busy,
  failure,
  act,
}: {
  item: NeedItem;
  busy: boolean;
  failure: string | undefined;
  act: (action: NeedAction) => void;
}) {
  return (
    <article aria-label={`${item.kindLabel} for ${item.agent.name}`}>
      <header className="need-head">
        <span className={`kind kind-${item.kind}`}>{item.kindLabel}</span>
        <span className="muted">
          for <strong className="agent-name">{item.agent.name}</strong> · <Time iso={item.createdAt} />
        </span>
      </header>
      <h2 className="need-title">{item.href ? <Link to={item.href}>{item.title}</Link> : item.title}</h2>
      {item.code && <pre className="code need-code">{item.code}</pre>}
      <dl className="facts">
        {item.details.map((d) => (
          <div key={d.label}>
            <dt>{d.label}</dt>
            <dd>{d.value}</dd>
          </div>
        ))}
      </dl>
      {failure && (
        <p className="note note-bad" role="alert">
          {failure}
        </p>
      )}
      <div className="need-actions">
        {item.actions.map((action) => (
          <button
            key={action.label}
            type="button"
            className={`button ${action.tone}`}
            disabled={busy}
            aria-keyshortcuts={action.shortcut}
            onClick={() => act(action)}
          >
            {action.label}
          </button>
        ))}
      </div>
    </article>
  );
}

/** Context: the workspace's keys and files — view a value, download a file, set a value, upload. */
import { useState } from 'react';
import type { ContextEntry } from '@gantry/protocol';
import { segment } from '../../api/client.ts';
import { useContextEntries, useContextEntry } from '../../api/resources.ts';
import { useListKeys } from '../../keys/list-keys.ts';
import { navigate } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { Empty, ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';
import { ContextForms, DeleteEntry } from './context-forms.tsx';

export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const href = (key: string) => `/context/${encodeURIComponent(key)}`;

export function ContextView({ selected }: { selected?: string }) {
  const entries = useContextEntries();
  const [prefix, setPrefix] = useState('');
  const shown = (entries.data ?? []).filter((e) => e.key.startsWith(prefix));
  const list = useListKeys({
    count: shown.length,
    onOpen: (i) => {
      const e = shown[i];
      if (e) navigate(href(e.key));
    },
  });

  return (
    <Page title="Context" subtitle="Keys and files the workspace shares.">
      <ContextForms />
      <div className={selected ? 'split has-detail' : 'split'}>
        <div className="split-list">
          <label className="field">
            <span>Filter by prefix</span>
            <input value={prefix} placeholder="notes/" onChange={(e) => setPrefix(e.target.value)} />
          </label>
          {entries.error ? (
            <ErrorNote error={entries.error} />
          ) : entries.isPending ? (
            <Loading what="context" />
          ) : shown.length === 0 ? (
            <Empty title={prefix ? `Nothing under ${prefix}` : 'No context yet.'}>
              Set a value or upload a file above.
            </Empty>
          ) : (
            <ul className="rows" aria-label="Context entries">
              {shown.map((e, index) => (
                <li
                  key={e.key}
                  className={[
                    'row',
                    index === list.selected ? 'selected' : '',
                    e.key === selected ? 'current' : '',
                  ].join(' ')}
                  {...list.item(index)}
                >
                  <span className="tag">{e.kind}</span>
                  <div className="row-main">
                    <Link
                      to={href(e.key)}
                      className="row-title"
                      aria-current={e.key === selected ? 'page' : undefined}
                    >
                      {e.key}
                    </Link>
                    <span className="muted small-text">
                      {size(e.size)} · {e.updatedBy} · <Time iso={e.updatedAt} />
                    </span>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="split-detail">{selected && <EntryView entryKey={selected} />}</div>
      </div>
    </Page>
  );
}

function EntryView({ entryKey }: { entryKey: string }) {
  const entry = useContextEntry(entryKey);
  if (entry.error) return <ErrorNote error={entry.error} />;
  if (!entry.data) return <Loading what={entryKey} />;
  const e: ContextEntry = entry.data;
  return (
    <section className="card" aria-label={`Context entry ${e.key}`}>
      <p className="split-back">
        <Link to="/context">← All entries</Link>
      </p>
      <h2 className="card-title">
        <code>{e.key}</code>
      </h2>
      <dl className="facts compact">
        <div>
          <dt>Kind</dt>
          <dd>{e.kind}</dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>{e.contentType}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{size(e.size)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>
            {e.updatedBy}, <Time iso={e.updatedAt} />
          </dd>
        </div>
        {e.sha256 && (
          <div>
            <dt>SHA-256</dt>
            <dd>
              <code className="clip">{e.sha256}</code>
            </dd>
          </div>
        )}
      </dl>
      {e.kind === 'value' ? (
        <pre className="code" tabIndex={0} aria-label="Value">
          {e.value}
        </pre>
      ) : (
        // `download` keeps the browser from rendering what an agent uploaded (HTML, SVG) on this origin.
        <a className="button" href={`/v1/context/${segment(e.key)}/file`} download={e.key.split('/').pop()}>
          Download
        </a>
      )}
      <DeleteEntry entryKey={e.key} />
    </section>
  );
}

/** One thread: its messages as text or safe Markdown, unread ones marked read on view, replies in place. */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Message } from '@gantry/protocol';
import { request, segment } from '../../api/client.ts';
import { keys, useThread } from '../../api/resources.ts';
import { Link } from '../../ui/link.tsx';
import { Markdown } from '../../ui/markdown.tsx';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';
import { Composer } from './composer.tsx';

export function ThreadView({ id }: { id: string }) {
  const client = useQueryClient();
  const thread = useThread(id);
  const [replyTo, setReplyTo] = useState<Message>();
  const messages = thread.data ?? [];
  const unreadIds = messages.filter((m) => m.read === false).map((m) => m.id);
  const unreadKey = unreadIds.join(',');

  // Reading a thread marks what was unread in it as read.
  useEffect(() => {
    if (!unreadKey) return;
    void Promise.all(
      unreadKey.split(',').map((m) => request(`/v1/messages/${segment(m)}/read`, { method: 'POST' })),
    ).then(() => client.invalidateQueries({ queryKey: keys.messages }));
  }, [unreadKey, client]);

  if (thread.error) return <ErrorNote error={thread.error} />;
  if (thread.isPending) return <Loading what="the thread" />;
  const parent = replyTo ?? messages.at(-1);

  return (
    <section className="thread" aria-label="Thread">
      <p className="split-back">
        <Link to="/messages">← All threads</Link>
      </p>
      <ol className="thread-messages">
        {messages.map((m) => (
          <li key={m.id} className={m.read === false ? 'msg unread' : 'msg'}>
            <article aria-label={`Message from ${m.author.name}`}>
              <header className="msg-head">
                <strong>{m.author.name}</strong>
                <span className="muted small-text">
                  {m.author.kind}
                  {m.mentions.length > 0 && <> → {m.mentions.map((p) => p.name).join(', ')}</>} ·{' '}
                  <Time iso={m.createdAt} />
                </span>
                {m.read === false && <span className="unread-mark">unread</span>}
              </header>
              <Markdown text={m.body} />
              {typeof m.metadata.assignmentId === 'string' && (
                <p className="small-text">
                  <Link to={`/assignments/${m.metadata.assignmentId}`}>The run behind this reply</Link>
                </p>
              )}
              <button
                type="button"
                className="button small ghost"
                onClick={() => setReplyTo(m)}
                aria-label={`Reply to ${m.author.name}`}
              >
                Reply
              </button>
            </article>
          </li>
        ))}
      </ol>
      {parent && (
        <div className="card">
          <Composer
            key={parent.id}
            parent={parent}
            label={`Reply to ${parent.author.name}`}
            onSent={() => {
              setReplyTo(undefined);
              void client.invalidateQueries({ queryKey: keys.thread(id) });
            }}
          />
        </div>
      )}
    </section>
  );
}

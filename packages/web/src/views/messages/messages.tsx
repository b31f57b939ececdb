/** Messages: the threads you can see (unread marked), one thread with replies in place, a composer. */
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { errorText, request } from '../../api/client.ts';
import { keys, useMessages } from '../../api/resources.ts';
import { useListKeys } from '../../keys/list-keys.ts';
import { navigate } from '../../router.ts';
import { announce } from '../../ui/announcer.tsx';
import { Link } from '../../ui/link.tsx';
import { plainText } from '../../ui/markdown.tsx';
import { Page } from '../../ui/page.tsx';
import { Empty, ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';
import { Composer } from './composer.tsx';
import { ThreadView } from './thread-view.tsx';
import { threadsOf } from './threads.ts';

export function Messages({ thread }: { thread?: string }) {
  const client = useQueryClient();
  const messages = useMessages();
  const threads = threadsOf(messages.data ?? []);
  const unread = threads.reduce((n, t) => n + t.unread, 0);
  const [error, setError] = useState<string>();
  const list = useListKeys({
    count: threads.length,
    onOpen: (i) => {
      const t = threads[i];
      if (t) navigate(`/messages/${t.id}`);
    },
  });

  const readAll = async () => {
    setError(undefined);
    try {
      const { marked } = await request<{ marked: number }>('/v1/messages/read-all', { method: 'POST' });
      announce(`${marked} marked read`);
      await client.invalidateQueries({ queryKey: keys.messages });
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <Page
      title="Messages"
      subtitle={unread > 0 ? `${unread} unread` : 'Threads you wrote in or were addressed in.'}
      actions={
        unread > 0 && (
          <button type="button" className="button" onClick={() => void readAll()}>
            Mark all read
          </button>
        )
      }
    >
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
      <div className={thread ? 'split has-detail' : 'split'}>
        <div className="split-list">
          {messages.error ? (
            <ErrorNote error={messages.error} />
          ) : messages.isPending ? (
            <Loading what="messages" />
          ) : threads.length === 0 ? (
            <Empty title="No messages yet.">Write one below; @name addresses an agent or a person.</Empty>
          ) : (
            <ul className="threads" aria-label="Threads">
              {threads.map((t, index) => (
                <li
                  key={t.id}
                  {...list.item(index)}
                  className={[
                    'thread-item',
                    t.id === thread ? 'current' : '',
                    index === list.selected ? 'selected' : '',
                    t.unread ? 'unread' : '',
                  ].join(' ')}
                >
                  <Link to={`/messages/${t.id}`} aria-current={t.id === thread ? 'page' : undefined}>
                    <span className="thread-top">
                      <span className="thread-people">{t.people.join(', ')}</span>
                      <Time iso={t.last.createdAt} />
                    </span>
                    <span className="thread-text">{plainText(t.last.body)}</span>
                    {t.unread > 0 && <span className="unread-mark">{t.unread} unread</span>}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="split-detail">
          {thread ? (
            <ThreadView id={thread} />
          ) : (
            <section className="card" aria-label="New message" id="compose">
              <Composer label="New message" onSent={(m) => navigate(`/messages/${m.threadId}`)} />
            </section>
          )}
        </div>
      </div>
    </Page>
  );
}

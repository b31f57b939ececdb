/** One agent: presence and gateways, pause/resume, its recent assignments and threads. */
import { useAssignments, useMessages } from '../../api/resources.ts';
import { isAdmin, useMe } from '../../api/session.ts';
import { Link } from '../../ui/link.tsx';
import { plainText } from '../../ui/markdown.tsx';
import { Page } from '../../ui/page.tsx';
import { Empty, ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { Time } from '../../ui/time.tsx';
import { AssignmentList } from '../assignments/assignment-list.tsx';
import { threadsOf } from '../messages/threads.ts';
import { PauseButton } from './pause-button.tsx';
import { useRoster } from './roster.ts';

export function AgentDetail({ name }: { name: string }) {
  const me = useMe();
  const roster = useRoster();
  const row = roster.rows.find((r) => r.agent.name === name || r.agent.id === name);
  const assignments = useAssignments({ agent: row?.agent.id ?? name, limit: 20 });
  const messages = useMessages();

  if (roster.isPending) return <Loading what={`agent ${name}`} />;
  if (!row)
    return (
      <Page title={name}>
        {roster.error !== undefined ? (
          <ErrorNote error={roster.error} />
        ) : (
          <Empty title={`No agent named ${name}.`} />
        )}
      </Page>
    );
  const { agent } = row;
  const threads = threadsOf(
    (messages.data ?? []).filter(
      (m) => m.author.id === agent.id || m.mentions.some((p) => p.id === agent.id),
    ),
  );

  return (
    <Page
      title={agent.name}
      subtitle={
        <>
          <Status value={row.presence} /> {agent.paused && <Status value="paused" />}{' '}
          <span>{row.reason}</span>
        </>
      }
      actions={isAdmin(me) && agent.kind !== 'service' && <PauseButton agent={agent} />}
    >
      <dl className="facts card">
        <div>
          <dt>Kind</dt>
          <dd>{agent.kind.replace('_', '-')}</dd>
        </div>
        {agent.template && (
          <div>
            <dt>Template</dt>
            <dd>{agent.template}</dd>
          </div>
        )}
        <div>
          <dt>Provider</dt>
          <dd>{row.provider ?? '—'}</dd>
        </div>
        <div>
          <dt>Gateways</dt>
          <dd>
            {row.gateways.length === 0
              ? 'none'
              : row.gateways.map((g) => (
                  <div key={g.id}>
                    {g.name} {g.host && <span className="muted">on {g.host}</span>} ·{' '}
                    {g.connected ? 'connected' : 'offline'}, seen <Time iso={g.lastSeenAt} />
                  </div>
                ))}
          </dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>{row.queued}</dd>
        </div>
        <div>
          <dt>Unread mail</dt>
          <dd>{row.unread}</dd>
        </div>
        <div>
          <dt>Last activity</dt>
          <dd>
            <Time iso={row.lastActivity} />
          </dd>
        </div>
      </dl>

      <h2 className="section-title">Recent assignments</h2>
      {assignments.error ? (
        <ErrorNote error={assignments.error} />
      ) : (
        <AssignmentList assignments={assignments.data} empty={`Nothing assigned to ${agent.name} yet.`} />
      )}

      <h2 className="section-title">Threads</h2>
      {threads.length === 0 ? (
        <p className="muted">No threads of yours with {agent.name}.</p>
      ) : (
        <ul className="plain-list">
          {threads.slice(0, 20).map((t) => (
            <li key={t.id}>
              <Link to={`/messages/${t.id}`}>{plainText(t.first.body)}</Link>{' '}
              <span className="muted">
                · {t.count} {t.count === 1 ? 'message' : 'messages'} · <Time iso={t.last.createdAt} />
              </span>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

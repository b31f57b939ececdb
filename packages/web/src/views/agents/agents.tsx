/** Agents: the roster — who is there, where it runs, whether it can answer now, what it is doing. */
import { isAdmin, useMe } from '../../api/session.ts';
import { useListKeys } from '../../keys/list-keys.ts';
import { navigate } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { Empty, ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { Time } from '../../ui/time.tsx';
import { PauseButton } from './pause-button.tsx';
import { useRoster } from './roster.ts';

export function Agents() {
  const me = useMe();
  const roster = useRoster();
  const href = (name: string) => `/agents/${encodeURIComponent(name)}`;
  const list = useListKeys({
    count: roster.rows.length,
    onOpen: (i) => {
      const row = roster.rows[i];
      if (row) navigate(href(row.agent.name));
    },
  });

  return (
    <Page title="Agents" subtitle="Who is there, where it runs, and what it is doing.">
      {roster.error !== undefined && <ErrorNote error={roster.error} />}
      {roster.isPending ? (
        <Loading what="agents" />
      ) : roster.rows.length === 0 ? (
        <Empty title="No agents yet.">
          Add one with <code>gantry agents add NAME --template echo --gateway GATEWAY</code>.
        </Empty>
      ) : (
        <table className="table roster">
          <caption className="visually-hidden">Agents of this workspace</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Presence</th>
              <th scope="col">Gateway and host</th>
              <th scope="col">Provider</th>
              <th scope="col">Current run</th>
              <th scope="col">Queued</th>
              <th scope="col">Unread mail</th>
              <th scope="col">Last activity</th>
              {isAdmin(me) && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {roster.rows.map((row, index) => (
              <tr
                key={row.agent.id}
                className={index === list.selected ? 'selected' : undefined}
                {...list.item(index)}
              >
                <td data-label="Name">
                  <Link to={href(row.agent.name)} className="strong">
                    {row.agent.name}
                  </Link>
                  <span className="muted small-text"> {row.agent.kind.replace('_', '-')}</span>
                </td>
                <td data-label="Presence">
                  <span title={row.reason}>
                    <Status value={row.presence} />
                  </span>
                  {row.agent.paused && (
                    <>
                      {' '}
                      <Status value="paused" />
                    </>
                  )}
                </td>
                <td data-label="Gateway">
                  {row.gateways.length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    row.gateways.map((g) => (
                      <div key={g.id}>
                        {g.name}
                        {g.host && <span className="muted"> on {g.host}</span>}
                        <span className="muted small-text">
                          {' '}
                          · {g.connected ? 'connected' : 'offline'}, seen <Time iso={g.lastSeenAt} />
                        </span>
                      </div>
                    ))
                  )}
                </td>
                <td data-label="Provider">
                  {row.provider ?? <span className="muted">—</span>}
                  {row.version && <span className="muted small-text"> · gateway {row.version}</span>}
                </td>
                <td data-label="Current run">
                  {row.current ? (
                    <Link to={`/assignments/${row.current.id}`} className="clip">
                      {row.current.prompt.split('\n')[0]}
                    </Link>
                  ) : (
                    <span className="muted">idle</span>
                  )}
                </td>
                <td data-label="Queued">{row.queued}</td>
                <td data-label="Unread mail">{row.unread}</td>
                <td data-label="Last activity">
                  <Time iso={row.lastActivity} />
                </td>
                {isAdmin(me) && (
                  <td data-label="Actions">
                    {row.agent.kind !== 'service' && <PauseButton agent={row.agent} />}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

/** A list of assignments: state, agent, prompt, when; each opens its run. */
import type { Assignment } from '@gantry/protocol';
import { useListKeys } from '../../keys/list-keys.ts';
import { navigate } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Empty, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { duration, Time } from '../../ui/time.tsx';

export function AssignmentList({
  assignments,
  empty,
}: {
  assignments: Assignment[] | undefined;
  empty: string;
}) {
  const list = useListKeys({
    count: assignments?.length ?? 0,
    onOpen: (i) => {
      const a = assignments?.[i];
      if (a) navigate(`/assignments/${a.id}`);
    },
  });
  if (!assignments) return <Loading what="assignments" />;
  if (assignments.length === 0) return <Empty title={empty} />;
  return (
    <ul className="rows" aria-label="Assignments">
      {assignments.map((a, index) => (
        <li key={a.id} className={index === list.selected ? 'row selected' : 'row'} {...list.item(index)}>
          <Status value={a.state} />
          <div className="row-main">
            <Link to={`/assignments/${a.id}`} className="row-title">
              {a.prompt.split('\n')[0] || a.id}
            </Link>
            <span className="muted small-text">
              {a.agent.name} · <Time iso={a.createdAt} />
              {a.startedAt && a.finishedAt && (
                <> · took {duration(Date.parse(a.finishedAt) - Date.parse(a.startedAt))}</>
              )}
              {a.error && <> · {a.error.code}</>}
            </span>
          </div>
        </li>
      ))}
    </ul>
  );
}

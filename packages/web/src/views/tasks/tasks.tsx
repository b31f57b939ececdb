/** Tasks: a board by status; a task opens with its run and thread. */
import type { Task } from '@gantry/protocol';
import { useTasks } from '../../api/resources.ts';
import { useListKeys } from '../../keys/list-keys.ts';
import { navigate } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { Time } from '../../ui/time.tsx';
import { NewTask } from './new-task.tsx';
import { priorities, statusNames, statuses } from './task-fields.ts';

function byUrgency(a: Task, b: Task): number {
  return (
    priorities.indexOf(b.priority) - priorities.indexOf(a.priority) || b.updatedAt.localeCompare(a.updatedAt)
  );
}

export function Tasks() {
  const tasks = useTasks();
  const all = tasks.data ?? [];
  // Most pressing first in each column; j/k walk the board column by column, as it reads.
  const ordered = statuses.flatMap((s) => all.filter((t) => t.status === s).sort(byUrgency));
  const list = useListKeys({
    count: ordered.length,
    onOpen: (i) => {
      const t = ordered[i];
      if (t) navigate(`/tasks/${t.id}`);
    },
  });

  return (
    <Page title="Tasks" subtitle="Who owns what, by status.">
      <NewTask />
      {tasks.error ? (
        <ErrorNote error={tasks.error} />
      ) : tasks.isPending ? (
        <Loading what="tasks" />
      ) : (
        <div className="board">
          {statuses.map((status) => {
            const column = ordered.filter((t) => t.status === status);
            return (
              <section
                key={status}
                className="column"
                aria-label={`${statusNames[status]}: ${column.length}`}
              >
                <h2 className="column-title">
                  <Status value={status} text={statusNames[status]} />{' '}
                  <span className="muted">{column.length}</span>
                </h2>
                <ul className="cards">
                  {column.map((t) => {
                    const index = ordered.indexOf(t);
                    return (
                      <li
                        key={t.id}
                        className={index === list.selected ? 'task-card card selected' : 'task-card card'}
                        {...list.item(index)}
                      >
                        <TaskCard task={t} />
                      </li>
                    );
                  })}
                  {column.length === 0 && <li className="muted column-empty">None</li>}
                </ul>
              </section>
            );
          })}
        </div>
      )}
    </Page>
  );
}

function TaskCard({ task }: { task: Task }) {
  return (
    <>
      <Link to={`/tasks/${task.id}`} className="task-title">
        {task.title}
      </Link>
      <span className="task-meta small-text">
        <span className={`tag priority-${task.priority}`}>{task.priority}</span>
        {task.assignee ? <span>{task.assignee.name}</span> : <span className="muted">unassigned</span>}
        <span className="muted">
          <Time iso={task.updatedAt} />
        </span>
      </span>
    </>
  );
}

/** One task: its text, status (changeable), assignee, the run working on it and its thread. */
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Task } from '@gantry/protocol';
import { errorText, request, segment } from '../../api/client.ts';
import { keys, useAssignment, useTask } from '../../api/resources.ts';
import { announce } from '../../ui/announcer.tsx';
import { Link } from '../../ui/link.tsx';
import { Markdown } from '../../ui/markdown.tsx';
import { Page } from '../../ui/page.tsx';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { Time } from '../../ui/time.tsx';
import { AssignmentList } from '../assignments/assignment-list.tsx';
import { ThreadView } from '../messages/thread-view.tsx';
import { statusNames, statuses } from './task-fields.ts';

export function TaskDetail({ id }: { id: string }) {
  const client = useQueryClient();
  const task = useTask(id);
  const [error, setError] = useState<string>();

  if (task.error) return <ErrorNote error={task.error} />;
  if (!task.data) return <Loading what="the task" />;
  const t = task.data;

  const setStatus = async (status: Task['status']) => {
    setError(undefined);
    try {
      const next = await request<Task>(`/v1/tasks/${segment(t.id)}`, { method: 'PATCH', body: { status } });
      client.setQueryData(keys.task(t.id), next);
      announce(`Task moved to ${statusNames[status]}`);
      void client.invalidateQueries({ queryKey: keys.tasks });
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <Page
      title={t.title}
      subtitle={
        <>
          <Status value={t.status} text={statusNames[t.status]} /> · {t.priority} priority · {t.intent} ·
          updated <Time iso={t.updatedAt} />
        </>
      }
      actions={
        <label className="field inline">
          <span>Status</span>
          <select value={t.status} onChange={(e) => void setStatus(e.target.value as Task['status'])}>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {statusNames[s]}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <p className="split-back">
        <Link to="/tasks">← All tasks</Link>
      </p>
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
      <section className="card" aria-label="Task">
        {t.body ? <Markdown text={t.body} /> : <p className="muted">No description.</p>}
        <dl className="facts compact">
          <div>
            <dt>Assignee</dt>
            <dd>{t.assignee ? `${t.assignee.name} (${t.assignee.kind})` : 'nobody'}</dd>
          </div>
          <div>
            <dt>Created by</dt>
            <dd>{t.createdBy.name}</dd>
          </div>
          {t.error && (
            <div>
              <dt>Blocked because</dt>
              <dd>{t.error}</dd>
            </div>
          )}
        </dl>
      </section>
      <h2 className="section-title">Assignment</h2>
      {t.assignmentId ? (
        <TaskRun id={t.assignmentId} />
      ) : (
        <p className="muted">No agent run for this task.</p>
      )}
      <h2 className="section-title">Thread</h2>
      {t.threadId ? <ThreadView id={t.threadId} /> : <p className="muted">No thread for this task.</p>}
    </Page>
  );
}

function TaskRun({ id }: { id: string }) {
  const run = useAssignment(id);
  if (run.error) return <ErrorNote error={run.error} />;
  return <AssignmentList assignments={run.data ? [run.data] : undefined} empty="" />;
}

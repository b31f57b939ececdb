/** A new task: title, assignee (an agent or a person; a managed agent starts on it), priority. */
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorText, request } from '../../api/client.ts';
import { keys, useAgents, useUsers } from '../../api/resources.ts';
import { announce } from '../../ui/announcer.tsx';
import { priorities } from './task-fields.ts';

export function NewTask() {
  const client = useQueryClient();
  const agents = useAgents();
  const users = useUsers();
  const [title, setTitle] = useState('');
  const [assignee, setAssignee] = useState('');
  const [priority, setPriority] = useState('medium');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await request('/v1/tasks', {
        method: 'POST',
        body: { title: title.trim(), priority, ...(assignee ? { assignee } : {}) },
      });
      setTitle('');
      announce('Task created');
      await client.invalidateQueries({ queryKey: keys.tasks });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card toolbar-form" onSubmit={(e) => void submit(e)} aria-label="New task">
      <label className="field grow">
        <span>Title</span>
        <input value={title} required maxLength={500} onChange={(e) => setTitle(e.target.value)} />
      </label>
      <label className="field">
        <span>Assignee</span>
        <select value={assignee} onChange={(e) => setAssignee(e.target.value)}>
          <option value="">Nobody</option>
          {(agents.data ?? [])
            .filter((a) => a.kind !== 'service')
            .map((a) => (
              <option key={a.id} value={a.name}>
                {a.name} (agent)
              </option>
            ))}
          {(users.data ?? []).map((u) => (
            <option key={u.id} value={u.handle}>
              {u.handle}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Priority</span>
        <select value={priority} onChange={(e) => setPriority(e.target.value)}>
          {priorities.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="button primary" disabled={busy || !title.trim()}>
        Create task
      </button>
      {error && (
        <p className="note note-bad full" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

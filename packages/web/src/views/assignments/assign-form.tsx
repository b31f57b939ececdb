/**
 * The Assign form: Agent and Prompt, and under "More" the session, continue and timeout. The new
 * assignment opens in its detail view, which streams the run.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { Assignment } from '@gantry/protocol';
import { errorText, request } from '../../api/client.ts';
import { useAgents } from '../../api/resources.ts';
import { navigate } from '../../router.ts';
import { isMod } from '../../keys/typing.ts';
import { parseDuration } from './duration-input.ts';

export function AssignForm({
  initial,
}: {
  initial?: { agent?: string; session?: string; continue?: boolean };
}) {
  const client = useQueryClient();
  const agents = useAgents();
  const runnable = (agents.data ?? []).filter((a) => a.kind === 'managed');
  const [picked, setAgent] = useState(initial?.agent ?? '');
  // The first agent until one is picked, so one click on Assign is enough.
  const agent = picked || runnable[0]?.name || '';
  const [prompt, setPrompt] = useState('');
  const [session, setSession] = useState(initial?.session ?? '');
  const [resume, setResume] = useState(initial?.continue ?? false);
  const [timeout, setTimeoutText] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const id = useId();

  useEffect(() => {
    if (location.hash === '#assign') form.current?.querySelector('textarea')?.focus();
  }, []);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    setError(undefined);
    const timeoutMs = timeout.trim() ? parseDuration(timeout) : undefined;
    if (timeout.trim() && timeoutMs === undefined) {
      setError(`"${timeout}" is not a duration: use 500ms, 30s, 5m, 2h or a number of seconds`);
      return;
    }
    setBusy(true);
    try {
      const created = await request<Assignment>('/v1/assignments', {
        method: 'POST',
        body: {
          agent,
          prompt,
          ...(session.trim() ? { sessionKey: session.trim() } : {}),
          ...(resume ? { mode: 'continue' } : {}),
          ...(timeoutMs ? { timeoutMs } : {}),
        },
      });
      client.setQueryData(['assignment', created.id], created);
      void client.invalidateQueries({ queryKey: ['assignments'] });
      setPrompt('');
      navigate(`/assignments/${created.id}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      ref={form}
      className="card assign-form"
      onSubmit={(e) => void submit(e)}
      aria-labelledby={`${id}-title`}
    >
      <h2 id={`${id}-title`} className="card-title">
        Assign work
      </h2>
      <div className="form-row">
        <label className="field field-agent">
          <span>Agent</span>
          <select value={agent} onChange={(e) => setAgent(e.target.value)} required>
            {runnable.length === 0 && <option value="">No agent can run work yet</option>}
            {runnable.map((a) => (
              <option key={a.id} value={a.name}>
                {a.name}
                {a.paused ? ' (paused)' : ''}
              </option>
            ))}
          </select>
        </label>
      </div>
      <label className="field">
        <span>Prompt</span>
        <textarea
          value={prompt}
          rows={4}
          required
          placeholder="What should the agent do?"
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && isMod(e.nativeEvent)) void submit();
          }}
        />
      </label>
      <details className="more" open={!!(initial?.session || initial?.continue)}>
        <summary>More</summary>
        <div className="form-grid">
          <label className="field">
            <span>Session</span>
            <input value={session} placeholder="default" onChange={(e) => setSession(e.target.value)} />
          </label>
          <label className="field">
            <span>Timeout</span>
            <input value={timeout} placeholder="60m" onChange={(e) => setTimeoutText(e.target.value)} />
          </label>
          <label className="check">
            <input type="checkbox" checked={resume} onChange={(e) => setResume(e.target.checked)} />
            <span>Continue the session’s conversation</span>
          </label>
        </div>
      </details>
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={busy || !agent}>
          {busy ? 'Assigning…' : 'Assign'}
        </button>
      </div>
    </form>
  );
}

/** Cancel a run in flight; once it has ended, Retry it or Continue its conversation with a new prompt. */
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { Assignment } from '@gantry/protocol';
import { errorText, request, segment } from '../../api/client.ts';
import { keys } from '../../api/resources.ts';
import { navigate } from '../../router.ts';
import { announce } from '../../ui/announcer.tsx';
import { Dialog } from '../../ui/dialog.tsx';
import { retryBody } from '../needs-you/failed-run-needs.tsx';
import { isFinished } from './states.ts';

export function RunActions({ assignment: a }: { assignment: Assignment }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [continuing, setContinuing] = useState(false);
  const [followUp, setFollowUp] = useState('');

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const cancel = () =>
    run(async () => {
      const next = await request<Assignment>(`/v1/assignments/${segment(a.id)}/cancel`, { method: 'POST' });
      client.setQueryData(keys.assignment(a.id), next);
      announce('Cancel sent');
    });
  const create = (body: object) =>
    run(async () => {
      const next = await request<Assignment>('/v1/assignments', { method: 'POST', body });
      client.setQueryData(keys.assignment(next.id), next);
      setContinuing(false);
      navigate(`/assignments/${next.id}`);
    });
  const submitFollowUp = (event: FormEvent) => {
    event.preventDefault();
    void create({
      agent: a.agent.id,
      prompt: followUp,
      sessionKey: a.sessionKey,
      mode: 'continue',
      resumeFallback: 'new',
    });
  };

  return (
    <div className="actions">
      {!isFinished(a.state) ? (
        <button
          type="button"
          className="button danger"
          disabled={busy || a.state === 'cancelling'}
          onClick={() => void cancel()}
        >
          Cancel
        </button>
      ) : (
        <>
          <button type="button" className="button" disabled={busy} onClick={() => void create(retryBody(a))}>
            Retry
          </button>
          <button
            type="button"
            className="button primary"
            disabled={busy}
            onClick={() => setContinuing(true)}
          >
            Continue
          </button>
        </>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      <Dialog open={continuing} onClose={() => setContinuing(false)} label="Continue the conversation">
        <form className="dialog-body" onSubmit={submitFollowUp}>
          <h2>Continue with {a.agent.name}</h2>
          <p className="muted">
            Resumes session <code>{a.sessionKey}</code> with a new prompt.
          </p>
          <label className="field">
            <span>Prompt</span>
            <textarea
              rows={4}
              required
              autoFocus
              value={followUp}
              onChange={(e) => setFollowUp(e.target.value)}
            />
          </label>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setContinuing(false)}>
              Back
            </button>
            <button type="submit" className="button primary" disabled={busy}>
              Continue
            </button>
          </div>
        </form>
      </Dialog>
    </div>
  );
}

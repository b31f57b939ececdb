/** Pause or resume an agent (owners and admins): paused, its work waits in the queue. */
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { Agent } from '@gantry/protocol';
import { errorText, request, segment } from '../../api/client.ts';
import { keys } from '../../api/resources.ts';
import { announce } from '../../ui/announcer.tsx';

export function PauseButton({ agent }: { agent: Agent }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const verb = agent.paused ? 'resume' : 'pause';
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await request(`/v1/agents/${segment(agent.name)}/${verb}`, { method: 'POST' });
      announce(`${agent.name} ${agent.paused ? 'resumed' : 'paused'}`);
      await client.invalidateQueries({ queryKey: keys.agents });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="inline-action">
      <button
        type="button"
        className="button small"
        disabled={busy}
        onClick={() => void toggle()}
        aria-label={`${agent.paused ? 'Resume' : 'Pause'} ${agent.name}`}
      >
        {agent.paused ? 'Resume' : 'Pause'}
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

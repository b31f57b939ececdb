/**
 * One chain (`/v1/chains/:id`): who started it, its limits and cost, and its runs as a tree — each
 * run under the run whose action started it, with its depth and state, linking to its detail; what
 * its limits stopped, with Continue and Dismiss. Live: every assignment.* and chain.* entry refreshes it.
 */
import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Chain, ChainRun } from '@gantry/protocol';
import { errorText, request, segment } from '../../api/client.ts';
import { keys, useChain } from '../../api/resources.ts';
import { announce } from '../../ui/announcer.tsx';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { duration, Time } from '../../ui/time.tsx';

/** Runs by the run that started them; runs with no cause in the chain are its roots. */
export function byCause(runs: ChainRun[]): Map<string | null, ChainRun[]> {
  const ids = new Set(runs.map((r) => r.id));
  const out = new Map<string | null, ChainRun[]>();
  for (const run of runs) {
    const parent = run.causeId && ids.has(run.causeId) ? run.causeId : null;
    out.set(parent, [...(out.get(parent) ?? []), run]);
  }
  return out;
}

export function ChainTree({ id }: { id: string }) {
  const chain = useChain(id);
  if (chain.error) return <ErrorNote error={chain.error} />;
  if (!chain.data) return <Loading what="the chain" />;
  const c = chain.data;
  const children = byCause(c.runs);
  const who = c.person ? `started by ${c.person.name}` : 'unattended';
  return (
    <Page
      title={
        <>
          <span className="muted">Chain</span> <code className="chain-id">{c.id}</code>
        </>
      }
      subtitle={
        <>
          {c.root.kind}, {who} · {c.runs.length} of {c.maxRuns} runs · at most {c.maxDepth} deep
          {c.usage.inputTokens + c.usage.outputTokens > 0 && (
            <>
              {' '}
              · {c.usage.inputTokens} in / {c.usage.outputTokens} out tokens, ${c.usage.costUsd.toFixed(4)}
            </>
          )}
        </>
      }
      actions={
        <Link to={`/assignments?chain=${encodeURIComponent(c.id)}`} className="button">
          Runs in a list
        </Link>
      }
    >
      {(c.stopped.length > 0 || c.stoppedAt !== null) && <Stopped chain={c} />}
      <h2 className="section-title">Who started what</h2>
      {c.runs.length === 0 ? (
        <p className="muted">This chain has made no runs.</p>
      ) : (
        <RunBranch runs={children.get(null) ?? []} children={children} label="Runs of this chain" />
      )}
    </Page>
  );
}

function RunBranch({
  runs,
  children,
  label,
}: {
  runs: ChainRun[];
  children: Map<string | null, ChainRun[]>;
  label: string;
}) {
  return (
    <ul className="chain-tree" aria-label={label}>
      {runs.map((run) => {
        const below = children.get(run.id) ?? [];
        return (
          <li key={run.id}>
            <div className="chain-run">
              <Status value={run.state} />
              <Link to={`/assignments/${run.id}`} className="chain-run-title">
                {run.agent.name}
              </Link>
              <span className="muted small-text">
                depth {run.depth} · <Time iso={run.createdAt} />
                {run.durationMs !== null && <> · {duration(run.durationMs)}</>}
                {run.usage?.costUsd !== undefined && <> · ${run.usage.costUsd.toFixed(4)}</>}
              </span>
            </div>
            {below.length > 0 && (
              <RunBranch runs={below} children={children} label={`Started by ${run.agent.name}'s run`} />
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * What its limits stopped. While it waits on a person: Continue (what was stopped runs) and Dismiss
 * (it stays stopped and leaves Needs you); once dismissed, Continue may still run it.
 */
function Stopped({ chain }: { chain: Chain }) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const waiting = chain.stoppedAt !== null;
  const act = async (action: 'continue' | 'dismiss') => {
    setBusy(true);
    setFailure(undefined);
    try {
      await request(`/v1/chains/${segment(chain.id)}/${action}`, { method: 'POST', body: {} });
      announce(action === 'continue' ? `Chain ${chain.id} goes on` : `Dismissed: chain ${chain.id}`);
      void client.invalidateQueries({ queryKey: keys.chain(chain.id) });
      void client.invalidateQueries({ queryKey: keys.chains });
    } catch (err) {
      setFailure(`${action === 'continue' ? 'Continue' : 'Dismiss'} failed: ${errorText(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-label="Stopped at its limit">
      <h2 className="card-title">Stopped at its limit</h2>
      {chain.stopped.length === 0 ? (
        <p className="muted">A run asked for more than its limits allow; nothing waits to run.</p>
      ) : (
        <ul className="plain-list">
          {chain.stopped.map((s, i) => (
            <li key={i}>
              <strong>{s.agent.name}</strong> was not run (depth {s.depth}
              {s.messageId ? ', asked for by a message' : s.taskId ? ', for a task' : ''})
            </li>
          ))}
        </ul>
      )}
      <p className="muted small-text">
        {waiting ? (
          <>
            Stopped <Time iso={chain.stoppedAt} />, it waits on a person: Continue runs what was stopped,
            Dismiss leaves it stopped.
          </>
        ) : (
          'Dismissed: it waits on nobody. Continue still runs what was stopped.'
        )}
      </p>
      {failure && (
        <p className="note note-bad" role="alert">
          {failure}
        </p>
      )}
      <div className="need-actions">
        <button type="button" className="button primary" disabled={busy} onClick={() => void act('continue')}>
          Continue
        </button>
        {waiting && (
          <button type="button" className="button" disabled={busy} onClick={() => void act('dismiss')}>
            Dismiss
          </button>
        )}
      </div>
    </section>
  );
}

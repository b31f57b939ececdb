/** Assignments: the Assign form, and every assignment with filters by agent, state and chain. */
import { useId } from 'react';
import { assignmentStatesList } from './states.ts';
import { useAgents, useAssignments, useChains } from '../../api/resources.ts';
import { setQuery, useLocation } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { ErrorNote } from '../../ui/states.tsx';
import { label } from '../../ui/status.tsx';
import { AssignForm } from './assign-form.tsx';
import { AssignmentList } from './assignment-list.tsx';
import type { AssignmentState, ChainSummary } from '@gantry/protocol';

export function Assignments() {
  const { search } = useLocation();
  const agent = search.get('agent') ?? undefined;
  const state = (search.get('state') ?? undefined) as AssignmentState | undefined;
  const agents = useAgents();
  const chain = search.get('chain') ?? undefined;
  const assignments = useAssignments({ agent, state, chain, limit: 200 });

  return (
    <Page title="Assignments" subtitle="Give an agent work, and follow every run.">
      <AssignForm
        initial={{
          agent: search.get('for') ?? undefined,
          session: search.get('session') ?? undefined,
          continue: search.get('continue') === '1',
        }}
      />
      <div className="toolbar" role="group" aria-label="Filters">
        <label className="field inline">
          <span>Agent</span>
          <select value={agent ?? ''} onChange={(e) => setQuery('agent', e.target.value || undefined)}>
            <option value="">All agents</option>
            {(agents.data ?? []).map((a) => (
              <option key={a.id} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span>State</span>
          <select value={state ?? ''} onChange={(e) => setQuery('state', e.target.value || undefined)}>
            <option value="">All states</option>
            {assignmentStatesList.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <ChainFilter chain={chain} />
      </div>
      {assignments.error ? (
        <ErrorNote error={assignments.error} />
      ) : (
        <AssignmentList assignments={assignments.data} empty="No assignments match." />
      )}
    </Page>
  );
}

/**
 * The chains the person may see, newest first, by what started them (stopped ones say so); a chain
 * in the URL that is not among them (an older one, linked from a run) is still a choice.
 */
function ChainFilter({ chain }: { chain: string | undefined }) {
  const chains = useChains();
  const known = chains.data ?? [];
  const id = useId();
  // Labelled by id, not by wrapping: a wrapped select's name would take in its chosen option's text.
  return (
    <div className="field inline chain-filter">
      <label htmlFor={id}>Chain</label>
      <select id={id} value={chain ?? ''} onChange={(e) => setQuery('chain', e.target.value || undefined)}>
        <option value="">Any chain</option>
        {chain && !known.some((c) => c.id === chain) && <option value={chain}>{chain}</option>}
        {known.map((c) => (
          <option key={c.id} value={c.id}>
            {chainLabel(c)}
          </option>
        ))}
      </select>
      {chain && (
        <Link to={`/assignments/chains/${encodeURIComponent(chain)}`} className="small-text">
          Chain tree
        </Link>
      )}
    </div>
  );
}

/** "Stopped · fix the login bug (3 runs)": what started it (its id when that is not shown), its runs. */
export function chainLabel(c: ChainSummary): string {
  const what = c.head ? (c.head.length > 48 ? `${c.head.slice(0, 47)}…` : c.head) : `${c.root.kind} ${c.id}`;
  return `${c.stop ? 'Stopped · ' : ''}${what} (${c.runs} ${c.runs === 1 ? 'run' : 'runs'})`;
}

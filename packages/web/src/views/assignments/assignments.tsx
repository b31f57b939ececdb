/** Assignments: the Assign form, and every assignment with filters by agent, state and chain. */
import { useState } from 'react';
import { assignmentStatesList } from './states.ts';
import { useAgents, useAssignments } from '../../api/resources.ts';
import { setQuery, useLocation } from '../../router.ts';
import { Link } from '../../ui/link.tsx';
import { Page } from '../../ui/page.tsx';
import { ErrorNote } from '../../ui/states.tsx';
import { label } from '../../ui/status.tsx';
import { AssignForm } from './assign-form.tsx';
import { AssignmentList } from './assignment-list.tsx';
import type { AssignmentState } from '@gantry/protocol';

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
        <ChainFilter key={chain ?? ''} chain={chain} />
      </div>
      {assignments.error ? (
        <ErrorNote error={assignments.error} />
      ) : (
        <AssignmentList assignments={assignments.data} empty="No assignments match." />
      )}
    </Page>
  );
}

/** A chain id (from an assignment's detail or a chain's tree): applied on Enter or on leaving the field. */
function ChainFilter({ chain }: { chain: string | undefined }) {
  const [draft, setDraft] = useState(chain ?? '');
  const apply = () => setQuery('chain', draft.trim() || undefined);
  return (
    <form
      className="field inline chain-filter"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <label>
        <span>Chain</span>
        <input
          value={draft}
          placeholder="Any chain"
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setDraft(e.target.value)}
          onBlur={apply}
        />
      </label>
      {chain && (
        <Link to={`/assignments/chains/${encodeURIComponent(chain)}`} className="small-text">
          Chain tree
        </Link>
      )}
    </form>
  );
}

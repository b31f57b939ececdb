/** Assignments: the Assign form, and every assignment with filters by agent and state. */
import { assignmentStatesList } from './states.ts';
import { useAgents, useAssignments } from '../../api/resources.ts';
import { setQuery, useLocation } from '../../router.ts';
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
  const assignments = useAssignments({ agent, state, limit: 200 });

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
      </div>
      {assignments.error ? (
        <ErrorNote error={assignments.error} />
      ) : (
        <AssignmentList assignments={assignments.data} empty="No assignments match." />
      )}
    </Page>
  );
}

/**
 * What the assignment lifecycle tells the workspace: `assignment.*` entries in the activity log.
 * Every entry names the assignment, its agent and attempt; the agent is the actor unless said.
 */
import {
  assignmentCreated,
  assignmentFinished,
  assignmentProgress,
  assignmentStarted,
  clip,
  type ActivityData,
  type AssignmentMode,
  type AssignmentState,
  type Party,
  type RunEvent,
} from '@gantry/protocol';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Activity, NewActivity, Tx } from './activity.ts';
import type { ActivityRow } from '../store/activity.ts';

type AssignmentEntry =
  typeof assignmentCreated | typeof assignmentStarted | typeof assignmentProgress | typeof assignmentFinished;
/** An entry's own fields: the assignment, agent and attempt are filled in. */
type Own<A extends AssignmentEntry> = Omit<ActivityData<A>, 'assignmentId' | 'agent' | 'attempt'>;

export class AssignmentNews {
  constructor(
    private readonly store: Store,
    /** None: the lifecycle runs without telling anyone (tests of the lifecycle alone). */
    private readonly activity?: Activity,
  ) {}

  /**
   * Queued by `actor` (null: by the hub or a gateway): recorded in the transaction that stores the
   * row; `published` tells it once that has committed. Undefined when nobody is told.
   */
  async created(
    tx: Tx,
    row: AssignmentRow,
    actor: Party | null,
    agentName: string,
  ): Promise<ActivityRow | undefined> {
    if (!this.activity) return undefined;
    const data = {
      state: 'queued',
      prompt: clip(row.prompt, 200),
      sessionKey: row.session_key,
      mode: row.mode as AssignmentMode,
    } as const;
    return this.activity.record(tx, assignmentCreated, entryOf(row, data, actor, agentName));
  }

  published(entry: ActivityRow | undefined): void {
    if (entry) this.activity?.published(entry);
  }

  started(row: AssignmentRow, gatewayId: string): Promise<void> {
    return this.announce(assignmentStarted, row, { state: 'running', gatewayId });
  }

  finished(
    row: AssignmentRow,
    end: {
      state: AssignmentState;
      output?: string;
      exitCode?: number | null;
      error?: { code: string; message: string };
    },
  ): Promise<void> {
    return this.announce(assignmentFinished, row, {
      state: end.state,
      error: end.error ?? null,
      output: end.output === undefined ? null : clip(end.output, 500),
      exitCode: end.exitCode ?? null,
    });
  }

  /**
   * A batch's newest provider `status` becomes one `assignment.progress` entry. The events path
   * is hot: this only compares types, and reads the store only for a batch that has a new status.
   * `known` is the seq up to which the hub had every event before this batch.
   */
  async progressed(id: string, events: RunEvent[], known: number | undefined): Promise<void> {
    if (!this.activity) return;
    let status: RunEvent | undefined;
    for (let i = events.length - 1; i >= 0 && !status; i--) {
      if (events[i]?.type === 'status') status = events[i];
    }
    // A replayed batch (seqs the hub already had) is not news.
    if (!status || (known !== undefined && status.seq <= known)) return;
    const row = await this.store.assignments.get(id);
    if (!row) return;
    const { message, progress } = status.data;
    await this.announce(assignmentProgress, row, {
      state: row.state as AssignmentState,
      message: typeof message === 'string' ? clip(message, 500) : '',
      ...(typeof progress === 'number' ? { progress } : {}),
      seq: status.seq,
    });
  }

  private async announce<A extends AssignmentEntry>(
    definition: A,
    row: AssignmentRow,
    data: Own<A>,
    actor?: Party | null,
    agentName?: string,
  ): Promise<void> {
    if (!this.activity) return;
    const name = agentName ?? (await this.store.agents.get(row.agent_id))?.name ?? row.agent_id;
    await this.activity.append(definition, entryOf(row, data, actor, name));
  }
}

/** The entry of an assignment's change: it names the assignment, its agent and attempt. */
function entryOf<A extends AssignmentEntry>(
  row: AssignmentRow,
  data: Own<A>,
  actor: Party | null | undefined,
  agentName: string,
): NewActivity<A> {
  const agent = { id: row.agent_id, name: agentName };
  return {
    workspaceId: row.workspace_id,
    actor: actor === undefined ? { kind: 'agent', ...agent } : actor,
    subject: row.id,
    data: { assignmentId: row.id, agent, attempt: row.attempt, ...data } as ActivityData<A>,
  };
}

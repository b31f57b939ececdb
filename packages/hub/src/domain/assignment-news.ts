/**
 * What the assignment lifecycle tells the workspace: `assignment.*` entries in the activity log.
 * Every entry names the assignment, its agent and attempt; the agent is the actor unless said.
 */
import { clip, type Party, type RunEvent } from '@gantry/protocol';
import type { AssignmentRow, Store } from '../store/store.ts';
import type { Activity } from './activity.ts';

export class AssignmentNews {
  constructor(
    private readonly store: Store,
    /** None: the lifecycle runs without telling anyone (tests of the lifecycle alone). */
    private readonly activity?: Activity,
  ) {}

  /** Queued by `actor` (null: by the hub or a gateway). */
  created(row: AssignmentRow, actor: Party | null, agentName: string): Promise<void> {
    const data = {
      state: 'queued',
      prompt: clip(row.prompt, 200),
      sessionKey: row.session_key,
      mode: row.mode,
    };
    return this.announce(row, 'assignment.created', data, actor, agentName);
  }

  started(row: AssignmentRow, gatewayId: string): Promise<void> {
    return this.announce(row, 'assignment.started', { state: 'running', gatewayId });
  }

  finished(
    row: AssignmentRow,
    end: {
      state: string;
      output?: string;
      exitCode?: number | null;
      error?: { code: string; message: string };
    },
  ): Promise<void> {
    return this.announce(row, 'assignment.finished', {
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
    const row = await this.store.getAssignment(id);
    if (!row) return;
    const { message, progress } = status.data;
    await this.announce(row, 'assignment.progress', {
      state: row.state,
      message: typeof message === 'string' ? clip(message, 500) : '',
      ...(typeof progress === 'number' ? { progress } : {}),
      seq: status.seq,
    });
  }

  private async announce(
    row: AssignmentRow,
    type: string,
    data: Record<string, unknown>,
    actor?: Party | null,
    agentName?: string,
  ): Promise<void> {
    if (!this.activity) return;
    const name = agentName ?? (await this.store.getAgent(row.agent_id))?.name ?? row.agent_id;
    const agent = { id: row.agent_id, name };
    await this.activity.append({
      workspaceId: row.workspace_id,
      type,
      actor: actor === undefined ? { kind: 'agent', ...agent } : actor,
      subject: row.id,
      data: { assignmentId: row.id, agent, attempt: row.attempt, ...data },
    });
  }
}

/**
 * Chains (DESIGN §6a): everything a run does is caused by it, so every assignment and message
 * knows its chain (named after its root: a person's message, assignment or task, or an unattended
 * trigger) and its depth (runs between the root and it). A person's action, or an agent acting
 * outside any run, starts a chain; a run's actions stay in the run's chain, one deeper for each run
 * they start.
 */
import { GantryError, type Party } from '@gantry/protocol';
import type { Repositories } from '../store/repositories.ts';
import type { Actor } from './actor.ts';

/** Where something sits in a chain. */
export interface ChainRef {
  chainId: string;
  /** For a message or entry: the depth of the run that wrote it (0 for a person's). For a run: its own. */
  depth: number;
  /** For a message or entry: the run (assignment id) that wrote it. For a run: the run that caused it. */
  cause?: string;
}

export type RootKind = 'message' | 'assignment' | 'task' | 'trigger';

/**
 * Where what the actor does now sits: in its run's chain at the run's depth, or (a person, or an
 * agent outside any run) at the root of a new chain named `rootId`.
 */
export function chainOf(actor: Actor, rootId: string): ChainRef {
  return actor.run
    ? { chainId: actor.run.chainId, depth: actor.run.depth, cause: actor.run.assignmentId }
    : { chainId: rootId, depth: 0 };
}

/** The person at a chain's root: a user who started it; none for an agent outside any run. */
export function rootPerson(actor: Pick<Actor, 'kind' | 'id' | 'name'>): Party | null {
  return actor.kind === 'user' ? { kind: 'user', id: actor.id, name: actor.name } : null;
}

/** A chain's root to record: its id, workspace, kind, person and its limit of runs if a person raised it. */
export interface Root {
  id: string;
  workspaceId: string;
  kind: RootKind;
  person: Party | null;
  maxRuns?: number;
}

/** Records a chain's root once (whoever names it first); `maxRuns` is a person's raised limit. */
export async function recordRoot(store: Repositories, root: Root, now = Date.now()): Promise<void> {
  await store.chains.ensure({
    id: root.id,
    workspace_id: root.workspaceId,
    root_kind: root.kind,
    person_id: root.person?.id ?? null,
    person_name: root.person?.name ?? null,
    max_depth: null,
    max_runs: root.maxRuns ?? null,
    created_at: now,
    updated_at: now,
  });
}

/**
 * Where a new assignment `id` runs: at `step` when the hub starts it for a trigger; one deeper in
 * the caller's run's chain; else at depth 1 of a chain of its own (a person may raise its limit),
 * whose `root` the caller records with the assignment.
 */
export function placeRun(
  caller: Actor,
  id: string,
  step: ChainRef | undefined,
  maxRuns: number | undefined,
): { chain: ChainRef; root?: Root } {
  if (maxRuns !== undefined && (caller.kind !== 'user' || caller.run))
    throw new GantryError('forbidden', "only a person can raise a chain's limit (--chain-max-runs)");
  if (step) return { chain: step };
  if (caller.run)
    return {
      chain: { chainId: caller.run.chainId, depth: caller.run.depth + 1, cause: caller.run.assignmentId },
    };
  const root: Root = {
    id,
    workspaceId: caller.workspaceId,
    kind: 'assignment',
    person: rootPerson(caller),
    ...(maxRuns === undefined ? {} : { maxRuns }),
  };
  return { chain: { chainId: id, depth: 1 }, root };
}

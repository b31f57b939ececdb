/**
 * Where an agent bound without a folder runs: its own `<workspace root>/<agent name>` (0700). Runs
 * take turns in a folder, so two agents sharing one would wait on each other; a handoff between
 * them would never be answered. Agents bound to one folder on purpose keep sharing it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { namePattern } from '@gantry/protocol';
import type { Binding } from './bindings.ts';

export function agentFolder(workspaceRoot: string, agent: { id: string; name: string }): string {
  // Hub names are path-safe; anything else (an old session's entry) falls back to the id.
  return join(workspaceRoot, namePattern.test(agent.name) ? agent.name : agent.id.replace(/[^\w.-]/g, '_'));
}

/** The agent's own folder, made (0700) if it is not there yet. */
export function ensureAgentFolder(workspaceRoot: string, agent: { id: string; name: string }): string {
  const dir = agentFolder(workspaceRoot, agent);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Folders that several agents' runs share (and so take turns in): folder -> agent names. */
export function sharedFolders(bindings: readonly Binding[]): Map<string, string[]> {
  const byFolder = new Map<string, string[]>();
  for (const b of bindings) {
    // Parallel runs do not take turns; worktree-isolated ones each get their own checkout.
    if (b.parallel || b.settings.isolation === 'worktree') continue;
    byFolder.set(b.workdir, [...(byFolder.get(b.workdir) ?? []), b.agentName]);
  }
  return new Map([...byFolder].filter(([, names]) => names.length > 1));
}

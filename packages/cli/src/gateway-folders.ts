/**
 * Where a gateway's agents run, as `gateway connect` and `gateway status` tell it: each agent bound
 * without a folder has its own under the workspace root; agents bound to one folder share it.
 */
import { join } from 'node:path';
import { agentFolder, gantryPaths, loadBindings, sharedFolders, type GatewaySession } from '@gantry/gateway';

/**
 * The saved workspace root, except the old default (`workspaces/default`, which every unbound
 * agent shared): a session saved with it moves to the new default, where each agent has a folder.
 */
export function savedRoot(saved: GatewaySession | undefined): string | undefined {
  const root = saved?.workspaceRoot;
  return root === join(gantryPaths().defaultWorkspaceRoot, 'default') ? undefined : root;
}

/** Where each served agent runs: its bound folder, else its own folder under the workspace root. */
export function folders(session: GatewaySession): [string, string][] {
  const bound = loadBindings(gantryPaths().bindingsFile);
  return session.agents.map((a) => [a.name, bound[a.id]?.workdir ?? agentFolder(session.workspaceRoot, a)]);
}

/** Agents bound to one folder take turns there: a handoff between them cannot be answered while one runs. */
export function sharingWarnings(session: GatewaySession): string[] {
  const served = new Set(session.agents.map((a) => a.id));
  const bound = Object.values(loadBindings(gantryPaths().bindingsFile)).filter((b) => served.has(b.agentId));
  return [...sharedFolders(bound)].map(
    ([folder, names]) =>
      `${names.join(', ')} share the folder ${folder}: their runs take turns there, and a handoff between them answers would_deadlock while one runs (bind each to its own folder, or use --parallel or --isolation worktree)`,
  );
}

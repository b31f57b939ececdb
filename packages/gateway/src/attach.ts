/**
 * An agent the hub hands this gateway (`gantry agents add --gateway`): its key goes into the
 * session file and its binding into `logical-sessions.json` (both 0600), and the daemon serves it
 * at once. `detach` takes both away again.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { HubFrameOf } from '@gantry/protocol';
import { ensureAgentFolder } from './agent-folder.ts';
import { removeBinding, saveBinding } from './bindings.ts';
import { providerNames } from './providers/registry.ts';
import { providerSettingsSchema } from './providers/settings.ts';
import { saveSession, type GatewaySession } from './session-file.ts';

export interface AgentFiles {
  session: GatewaySession;
  sessionFile: string;
  bindingsFile: string;
}

/** `workdir`: where the agent runs (its own folder under the workspace root when none was given). */
export type AttachAnswer = { ok: true; workdir: string } | { ok: false; error: string };

/** `attachAgent`, with a file that could not be written as its answer instead of a throw. */
export function tryAttachAgent(files: AgentFiles, frame: HubFrameOf<'attach'>): AttachAnswer {
  try {
    return attachAgent(files, frame);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function attachAgent(files: AgentFiles, frame: HubFrameOf<'attach'>): AttachAnswer {
  const { agent, key, binding } = frame;
  if (!(providerNames as readonly string[]).includes(binding.provider)) {
    return { ok: false, error: `this gateway has no provider '${binding.provider}'` };
  }
  const settings = providerSettingsSchema.safeParse(binding.settings);
  if (!settings.success) {
    const issue = settings.error.issues[0];
    return { ok: false, error: `invalid settings: ${issue?.path.join('.')}: ${issue?.message}` };
  }
  const workdir = binding.workdir ?? ensureAgentFolder(files.session.workspaceRoot, agent);
  if (binding.workdir) {
    if (!isAbsolute(workdir)) return { ok: false, error: `--workdir must be an absolute path (${workdir})` };
    if (!isDirectory(workdir)) return { ok: false, error: `${workdir} is not a folder on this machine` };
  }
  const entry = {
    id: agent.id,
    name: agent.name,
    key,
    provider: binding.provider,
    ...(binding.providerBin ? { providerBin: binding.providerBin } : {}),
    settings: settings.data,
  };
  const others = files.session.agents.filter((a) => a.id !== agent.id);
  files.session.agents = [...others, entry];
  saveSession(files.sessionFile, files.session);
  saveBinding(files.bindingsFile, {
    agentId: agent.id,
    agentName: agent.name,
    provider: binding.provider,
    workdir,
    ...(binding.providerBin ? { providerBin: binding.providerBin } : {}),
    parallel: false,
    settings: settings.data,
  });
  return { ok: true, workdir };
}

/** A rotated key for an agent this gateway serves (handed to its runs as GANTRY_TOKEN_FILE). */
export function rekeyAgent(files: AgentFiles, agentId: string, key: string): boolean {
  const agent = files.session.agents.find((a) => a.id === agentId);
  if (!agent) return false;
  agent.key = key;
  saveSession(files.sessionFile, files.session);
  return true;
}

/** Forgets an agent: its key leaves the session file and its binding the bindings file. */
export function detachAgent(files: AgentFiles, agentId: string): boolean {
  const before = files.session.agents.length;
  files.session.agents = files.session.agents.filter((a) => a.id !== agentId);
  removeBinding(files.bindingsFile, agentId);
  if (files.session.agents.length === before) return false;
  saveSession(files.sessionFile, files.session);
  return true;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `gantry gateway bind`: an agent's provider and working folder on this gateway. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { GantryError } from '@gantry/protocol';
import {
  gantryPaths,
  isRepositoryWithCommit,
  loadBindings,
  loadSessions,
  mergeSettings,
  saveBinding,
} from '@gantry/gateway';
import { ensureKnown, warnIfUnavailable } from '../provider-check.ts';
import { binFromFlags, rejectMixedBins, settingsFromFlags, type ProviderFlags } from '../provider-flags.ts';
import { ExitError, exitCodes, printJson, printLine } from '../output.ts';

export async function bind(
  flags: ProviderFlags & {
    agent: string;
    provider?: string;
    workdir?: string;
    parallel?: boolean;
    json?: boolean;
  },
): Promise<void> {
  const paths = gantryPaths();
  const sessions = loadSessions(paths.sessionFile);
  const named = (a: { id: string; name: string }) => a.id === flags.agent || a.name === flags.agent;
  const session = sessions.find((s) => s.agents.some(named)) ?? sessions[0];
  if (!session)
    throw new ExitError(exitCodes.usage, 'no saved gateway session: run `gantry gateway connect` first');
  const agent = session.agents.find(named);
  if (!agent) {
    const known = sessions
      .flatMap((s) => s.agents)
      .map((a) => `${a.name} (${a.id})`)
      .join(', ');
    throw new GantryError('not_found', `this gateway does not serve '${flags.agent}'; it serves: ${known}`);
  }
  const previous = loadBindings(paths.bindingsFile)[agent.id];
  // Unless told otherwise, a binding keeps the provider the agent already runs with, and its settings.
  const current = previous?.provider ?? agent.provider ?? session.provider;
  const provider = flags.provider ?? current;
  ensureKnown(provider);
  rejectMixedBins(provider, flags);
  const sameProvider = provider === current;
  const providerBin =
    binFromFlags(provider, flags) ??
    (sameProvider ? (previous?.providerBin ?? agent.providerBin) : undefined);
  const settings = mergeSettings(
    sameProvider ? (previous?.settings ?? agent.settings ?? session.settings) : undefined,
    settingsFromFlags(flags),
  );
  const workdir = resolve(flags.workdir ?? process.cwd());
  if (!existsSync(workdir) || !statSync(workdir).isDirectory()) {
    throw new GantryError('invalid_request', `${workdir} is not a folder`);
  }
  if (settings.isolation === 'worktree' && !(await isRepositoryWithCommit(workdir)))
    throw new GantryError(
      'invalid_request',
      `--isolation worktree needs a git repository with a commit, and ${workdir} is not in one: run \`git init && git commit --allow-empty -m init\` there, or bind without it`,
    );
  await warnIfUnavailable(
    provider,
    providerBin ?? (sameProvider ? session.providerBin : undefined),
    settings,
  );
  const binding = saveBinding(paths.bindingsFile, {
    agentId: agent.id,
    agentName: agent.name,
    provider,
    workdir,
    ...(providerBin ? { providerBin } : {}),
    ...(previous?.providerArgs ? { providerArgs: previous.providerArgs } : {}),
    parallel: flags.parallel ?? previous?.parallel ?? false,
    settings,
  });
  if (flags.json) printJson(binding);
  else {
    const notes = [
      binding.parallel ? 'parallel runs allowed' : undefined,
      settings.isolation === 'worktree' ? 'each assignment in its own git worktree' : undefined,
      ...Object.entries(settings)
        .filter(([key]) => key !== 'isolation')
        .map(([key, value]) => `${key} ${Array.isArray(value) ? value.join(',') : String(value)}`),
    ].filter(Boolean);
    printLine(
      `Bound ${agent.name} to ${provider} in ${workdir}${notes.length ? ` (${notes.join('; ')})` : ''}`,
    );
  }
}

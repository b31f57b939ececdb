/** `gantry gateway connect|start|run|bind|status` and `gantry gateways list`. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { createLogger, GantryError, gatewaySchema, type Gateway as GatewayView } from '@gantry/protocol';
import {
  createProvider,
  defaultGatewayName,
  ensureAgentFolder,
  mergeSettings,
  type ProviderSettings,
  Gateway,
  GatewayDb,
  gantryPaths,
  isRepositoryWithCommit,
  loadBindings,
  loadSession,
  providerNames,
  register,
  saveBinding,
  saveSession,
  startLocalApi,
  type GatewaySession,
} from '@gantry/gateway';
import { withApiKey } from '../api-key.ts';
import { HubClient } from '../client.ts';
import { liveStatus } from '../daemon.ts';
import type { HubOptions } from '../credentials.ts';
import { folders, savedRoot, sharingWarnings } from '../gateway-folders.ts';
import { connectSettings, hasConnectFlags, type ConnectFlags } from '../gateway-settings.ts';
import { binFromFlags, rejectMixedBins, settingsFromFlags, type ProviderFlags } from '../provider-flags.ts';
import { parsePort, untilSignal } from '../lifecycle.ts';
import { ExitError, exitCodes, printJson, printJsonLine, printLine, table } from '../output.ts';

interface StartFlags {
  providerArg?: string[];
  providerOption?: string[];
  port?: string;
  concurrency?: string;
  outboxMaxMb?: string;
  json?: boolean;
}

// ---- connect ------------------------------------------------------------------------------------

export async function connect(given: ConnectFlags & { json?: boolean }): Promise<void> {
  const flags = await withApiKey(given);
  const session = await connectWith(flags, loadSession(gantryPaths().sessionFile));
  if (flags.json) printJson(sessionView(session));
  else {
    printLine(`Connected gateway ${session.gatewayName} (${session.gatewayId}) to ${session.serverUrl}`);
    printLine(`Serving: ${session.agents.map((a) => a.name).join(', ')} with provider ${session.provider}`);
    for (const [name, folder] of folders(session)) printLine(`Folder: ${name} runs in ${folder}`);
    for (const line of sharingWarnings(session)) printLine(`Warning: ${line}`);
    const running = await liveStatus(gantryPaths());
    printLine(
      running
        ? `Saved ${gantryPaths().sessionFile}. The gateway daemon is running: restart it to serve the change.`
        : `Saved ${gantryPaths().sessionFile}. Start it with: gantry gateway start`,
    );
  }
}

/**
 * Registers with the hub. Every needed value comes from flags, environment or config, falling back
 * to the saved session (whose first agent's key re-attaches); what is still missing is named.
 */
async function connectWith(flags: ConnectFlags, saved: GatewaySession | undefined): Promise<GatewaySession> {
  const given = connectSettings(flags);
  const settings = {
    serverUrl: given.serverUrl ?? saved?.serverUrl,
    provider: given.provider ?? saved?.provider,
    apiKey: given.apiKey ?? saved?.agents[0]?.key,
  };
  const missing = [
    settings.serverUrl ? undefined : '--server-url',
    settings.provider ? undefined : '--provider',
    settings.apiKey ? undefined : '--api-key (or --api-key-file, GANTRY_API_KEY)',
  ].filter(Boolean);
  if (missing.length > 0 || !settings.serverUrl || !settings.provider || !settings.apiKey) {
    throw new ExitError(
      exitCodes.usage,
      `missing ${missing.join(', ')}: needed to connect this gateway to a hub`,
    );
  }
  rejectMixedBins(settings.provider, flags);
  const providerBin =
    binFromFlags(settings.provider, { ...flags, providerBin: given.providerBin }) ??
    (saved?.provider === settings.provider ? saved.providerBin : undefined);
  // Settings given now replace the saved ones key by key; a new provider starts from none.
  const providerSettings = mergeSettings(
    saved?.provider === settings.provider ? saved.settings : undefined,
    settingsFromFlags(flags),
  );
  await warnIfUnavailable(settings.provider, providerBin, providerSettings);
  const { trust, ...session } = await register({
    serverUrl: settings.serverUrl.replace(/\/+$/, ''),
    apiKey: settings.apiKey,
    provider: settings.provider,
    ...(providerBin ? { providerBin } : {}),
    providerArgs: given.providerArgs ?? saved?.providerArgs ?? [],
    settings: providerSettings,
    gatewayName: given.gatewayName ?? saved?.gatewayName ?? defaultGatewayName(),
    workspaceRoot: resolve(given.workspaceRoot ?? savedRoot(saved) ?? gantryPaths().defaultWorkspaceRoot),
    ...(saved ? { previous: saved } : {}),
  });
  saveSession(gantryPaths().sessionFile, session);
  const bound = loadBindings(gantryPaths().bindingsFile);
  for (const agent of session.agents.filter((a) => !bound[a.id]))
    ensureAgentFolder(session.workspaceRoot, agent);
  // A device the hub does not trust yet serves nothing until a person approves it.
  if (trust && trust.status !== 'trusted') process.stderr.write(`gantry: ${trust.message}\n`);
  return session;
}

function ensureKnown(provider: string): void {
  if (!(providerNames as readonly string[]).includes(provider)) {
    throw new GantryError(
      'invalid_request',
      `unknown provider '${provider}' (known: ${providerNames.join(', ')})`,
    );
  }
}

/**
 * A provider that cannot run here (binary missing or broken, server down) is reported, not fatal:
 * the gateway still serves, `gateway status` shows the agent unavailable, and its runs fail with
 * `provider_unavailable` until it is fixed.
 */
async function warnIfUnavailable(
  provider: string,
  bin: string | undefined,
  settings: ProviderSettings,
): Promise<void> {
  ensureKnown(provider);
  const check = await createProvider(provider, { ...(bin ? { bin } : {}), settings }).check();
  if (!check.ok)
    process.stderr.write(`gantry: warning: provider ${provider} cannot run here yet: ${check.detail}\n`);
}

// ---- start / run --------------------------------------------------------------------------------

export async function start(
  given: StartFlags & { serverUrl?: string; apiKey?: string; apiKeyFile?: string },
): Promise<void> {
  const flags = await withApiKey(given);
  const saved = loadSession(gantryPaths().sessionFile);
  if (!saved) {
    throw new ExitError(
      exitCodes.usage,
      'no saved gateway session: run `gantry gateway connect` (or `gantry gateway run`) with --server-url, --provider and --api-key first',
    );
  }
  // Overrides re-register; --provider-arg stays an argument of this run, not of the saved session.
  const overrides = { serverUrl: flags.serverUrl, apiKey: flags.apiKey };
  const session = flags.serverUrl || flags.apiKey ? await connectWith(overrides, saved) : saved;
  await serve(session, flags);
}

/**
 * `gateway run`: with no saved session, connect (every needed flag must be there) and start; with a
 * saved session and no connect flags, start from it; with connect flags, reconnect with them first.
 */
export async function runGateway(given: ConnectFlags & StartFlags): Promise<void> {
  const flags = await withApiKey(given);
  const saved = loadSession(gantryPaths().sessionFile);
  if (saved && !hasConnectFlags(flags)) return serve(saved, flags);
  // Connecting saves the provider args in the session; they are not added a second time at start.
  await serve(await connectWith(flags, saved), { ...flags, providerArg: [], providerOption: [] });
}

async function serve(session: GatewaySession, flags: StartFlags): Promise<void> {
  const paths = gantryPaths();
  const fromFile = connectSettings({});
  const concurrency = Number(flags.concurrency ?? fromFile.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new GantryError('invalid_request', '--concurrency must be a whole number from 1 to 256');
  }
  const outboxMaxMb = Number(flags.outboxMaxMb ?? fromFile.outboxMaxMb ?? 512);
  if (!(outboxMaxMb > 0))
    throw new GantryError('invalid_request', '--outbox-max-mb must be a positive number');
  const providerArgs = [...(flags.providerArg ?? []), ...(flags.providerOption ?? [])];
  const log = createLogger('gateway');
  const gateway = new Gateway({
    paths,
    session,
    concurrency,
    providerArgs,
    graces: stopGraces(),
    outboxMaxBytes: Math.round(outboxMaxMb * 1024 * 1024),
    permissionTimeoutMs: permissionTimeoutMs(),
    log,
  });
  let api;
  try {
    for (const check of (await gateway.providerChecks()).filter((c) => !c.ok))
      log.warn('agent unavailable: its provider cannot run here', {
        agent: check.agent,
        provider: check.provider,
        detail: check.detail,
      });
    api = await startLocalApi(gateway, paths, parsePort(flags.port, fromFile.port ?? 7421), log);
  } catch (err) {
    gateway.close();
    throw err;
  }
  await gateway.start();
  const connected = await gateway.whenConnected(3000);
  if (flags.json) printJsonLine({ ...sessionView(session), localApiUrl: api.url, concurrency, connected });
  else {
    printLine(
      `Gateway ${session.gatewayName} (${session.gatewayId}) serving ${session.agents.map((a) => a.name).join(', ')}`,
    );
    printLine(
      `Hub ${session.serverUrl} · local API ${api.url} · up to ${concurrency} at once. Stop with Ctrl+C.`,
    );
    if (!connected)
      printLine(`The hub does not answer yet; the gateway keeps trying and serves once it does.`);
  }
  const signal = await untilSignal();
  process.stderr.write(`gantry: ${signal}: stopping the gateway\n`);
  await gateway.stop();
  await api.close();
}

/** How long an `ask` permission request waits for a user: GANTRY_PERMISSION_TIMEOUT_MS (default 10 min). */
function permissionTimeoutMs(env = process.env): number | undefined {
  if (env.GANTRY_PERMISSION_TIMEOUT_MS === undefined) return undefined;
  const ms = Number(env.GANTRY_PERMISSION_TIMEOUT_MS);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new GantryError(
      'invalid_request',
      'GANTRY_PERMISSION_TIMEOUT_MS must be a positive whole number of milliseconds',
    );
  return ms;
}

/** SIGINT -> SIGTERM -> SIGKILL graces for cancel and timeout: GANTRY_STOP_GRACE_MS sets both (default 5000). */
export function stopGraces(env = process.env) {
  const ms = Number(env.GANTRY_STOP_GRACE_MS ?? 5000);
  if (!Number.isInteger(ms) || ms < 0)
    throw new GantryError('invalid_request', 'GANTRY_STOP_GRACE_MS must be a whole number of milliseconds');
  return { interruptMs: ms, terminateMs: ms };
}

function sessionView(session: GatewaySession) {
  return {
    serverUrl: session.serverUrl,
    workspaceId: session.workspaceId,
    gateway: { id: session.gatewayId, name: session.gatewayName },
    provider: session.provider,
    workspaceRoot: session.workspaceRoot,
    agents: session.agents.map((a) => ({ id: a.id, name: a.name })),
  };
}

// ---- bind ---------------------------------------------------------------------------------------

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
  const session = loadSession(paths.sessionFile);
  if (!session)
    throw new ExitError(exitCodes.usage, 'no saved gateway session: run `gantry gateway connect` first');
  const agent = session.agents.find((a) => a.id === flags.agent || a.name === flags.agent);
  if (!agent) {
    const known = session.agents.map((a) => `${a.name} (${a.id})`).join(', ');
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

// ---- status -------------------------------------------------------------------------------------

export async function status(flags: { json?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const session = loadSession(paths.sessionFile);
  const live = await liveStatus(paths);
  const view = {
    running: live !== undefined,
    connected: live?.connected === true,
    serverUrl: session?.serverUrl ?? null,
    gateway: session ? { id: session.gatewayId, name: session.gatewayName } : null,
    localApiUrl: live?.localApiUrl ?? null,
    agents: session
      ? (live?.agents ?? session.agents.map((a) => ({ id: a.id, name: a.name, provider: session.provider })))
      : [],
    providers: live?.providers ?? (session ? await localChecks(paths, session) : []),
    runningAttempts: live?.running ?? [],
    outboxDepth: live?.outboxDepth ?? (existsSync(paths.gatewayDb) ? outboxDepth(paths.gatewayDb) : 0),
    lastContactAt: live?.lastContactAt ?? null,
    refused: live?.refused ?? null,
    pending: live?.pending ?? null,
    warnings: session ? sharingWarnings(session) : [],
  };
  if (flags.json) return printJson(view);
  if (!session) {
    printLine(
      'No gateway on this machine yet: run `gantry gateway run --server-url URL --provider P --api-key KEY`.',
    );
    return;
  }
  printLine(`Gateway     ${session.gatewayName} (${session.gatewayId})`);
  printLine(`Hub         ${session.serverUrl}`);
  printLine(
    `Daemon      ${view.running ? `running, ${connection(view)} (local API ${view.localApiUrl})` : 'not running'}`,
  );
  printLine(`Agents      ${view.agents.map((a) => `${a.name} (${a.provider})`).join(', ')}`);
  for (const check of view.providers) {
    const state = check.ok ? `available${check.version ? `, ${check.version}` : ''}` : 'UNAVAILABLE';
    printLine(`Provider    ${check.agent}: ${check.provider} ${state} (${check.detail})`);
  }
  printLine(
    `Running     ${view.runningAttempts.length === 0 ? 'nothing' : view.runningAttempts.map((r) => `${r.assignmentId}#${r.attempt} ${r.agent} ${r.state}`).join(', ')}`,
  );
  printLine(`Outbox      ${view.outboxDepth} frame(s) waiting for the hub`);
  for (const warning of view.warnings) printLine(`Warning     ${warning}`);
}

function connection(view: { connected: boolean; refused: string | null; pending: string | null }): string {
  if (view.connected) return view.pending ? `connected; ${view.pending}` : 'connected';
  if (view.pending) return `WAITING for approval: ${view.pending}`;
  return view.refused
    ? `REFUSED by the hub (${view.refused}); it does not retry`
    : 'NOT connected (retrying)';
}

/** Provider checks when no daemon runs: the same checks it would make, from the saved bindings. */
async function localChecks(paths: ReturnType<typeof gantryPaths>, session: GatewaySession) {
  const bindings = loadBindings(paths.bindingsFile);
  return Promise.all(
    session.agents.map(async (agent) => {
      const bound = bindings[agent.id];
      const provider = bound?.provider ?? agent.provider ?? session.provider;
      const bin = bound?.providerBin ?? agent.providerBin ?? session.providerBin;
      const settings = bound?.settings ?? agent.settings ?? session.settings;
      const check = await createProvider(provider, { ...(bin ? { bin } : {}), settings }).check();
      return { agent: agent.name, agentId: agent.id, provider, ...check };
    }),
  );
}

function outboxDepth(path: string): number {
  const db = new GatewayDb(path);
  try {
    return db.outboxDepth();
  } finally {
    db.close();
  }
}

// ---- gateways list (hub side) -------------------------------------------------------------------

export async function listGateways(flags: HubOptions & { json?: boolean }): Promise<void> {
  const gateways: GatewayView[] = await HubClient.from(flags).request(
    'GET',
    '/v1/gateways',
    z.array(gatewaySchema),
  );
  if (flags.json) return printJson(gateways);
  if (gateways.length === 0) return printLine('No gateways yet.');
  printLine(
    table([
      ['ID', 'NAME', 'STATE', 'AGENTS', 'RUNNING', 'LAST CONTACT'],
      ...gateways.map((g) => [
        g.id,
        g.name,
        g.connected ? 'connected' : 'offline',
        g.agents.map((a) => a.name).join(',') || '-',
        String(g.runningAttempts),
        g.lastSeenAt ?? 'never',
      ]),
    ]),
  );
}

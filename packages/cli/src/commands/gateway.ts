/** `gantry gateway connect|start|run` (`bind`: gateway-bind.ts; `status`: gateway-status.ts; `gateways list`: devices.ts). */
import { resolve } from 'node:path';
import { createLogger, GantryError } from '@gantry/protocol';
import {
  defaultGatewayName,
  ensureAgentFolder,
  mergeSettings,
  Gateway,
  gantryPaths,
  loadBindings,
  loadSession,
  loadSessions,
  register,
  saveSession,
  startLocalApi,
  urlsOf,
  type GatewaySession,
  type Registration,
} from '@gantry/gateway';
import { withApiKey } from '../api-key.ts';
import { liveStatus } from '../daemon.ts';
import { daemonMode, setupDaemonLog } from '../daemon-log.ts';
import { stopRequests, untilStopped } from '../daemon-stop.ts';
import { writeDaemonRecord, type DaemonSettings } from '../daemon-record.ts';
import { startDetached } from './gateway-daemon.ts';
import { connectTarget } from '../saved-hubs.ts';
import { hubUrls, oneHubSystem } from '../hub-urls.ts';
import { warnIfUnavailable } from '../provider-check.ts';
import { folders, savedRoot, sharingWarnings } from '../gateway-folders.ts';
import { connectSettings, hasConnectFlags, resolveSettings, type ConnectFlags } from '../gateway-settings.ts';
import { binFromFlags, rejectMixedBins, settingsFromFlags } from '../provider-flags.ts';
import { parsePort, untilSignal } from '../lifecycle.ts';
import { ExitError, exitCodes, printJson, printJsonLine, printLine } from '../output.ts';
import { requireOneSecret } from '../texts.ts';

interface StartFlags {
  providerArg?: string[];
  providerOption?: string[];
  port?: string;
  concurrency?: string;
  outboxMaxMb?: string;
  config?: string;
  json?: boolean;
}

// ---- connect ------------------------------------------------------------------------------------

export async function connect(given: ConnectFlags & { json?: boolean }): Promise<void> {
  const flags = await withApiKey(given);
  const { session, trust } = await connectWith(flags, true);
  if (flags.json) printJson({ ...sessionView(session), trust: trust ?? null });
  else {
    const others = loadSessions(gantryPaths().sessionFile).filter((s) => s.gatewayId !== session.gatewayId);
    printLine(
      `Connected gateway ${session.gatewayName} (${session.gatewayId}) to ${urlsOf(session).join(', ')}`,
    );
    // The agent just connected is the last one; until its device is approved it is not served.
    const waiting = trust && trust.status !== 'trusted' ? session.agents.at(-1) : undefined;
    const serving = session.agents.filter((a) => a !== waiting);
    if (serving.length > 0)
      printLine(`Serving: ${serving.map((a) => a.name).join(', ')} with provider ${session.provider}`);
    if (waiting && trust?.status === 'pending')
      printLine(
        `Pending approval: ${waiting.name} is not served from this device until an owner or admin approves approval ${trust.approvalId}: gantry approvals approve ${trust.approvalId}`,
      );
    else if (waiting && trust) printLine(`Denied: ${trust.message}`);
    for (const [name, folder] of folders(session)) printLine(`Folder: ${name} runs in ${folder}`);
    for (const line of sharingWarnings(session)) printLine(`Warning: ${line}`);
    const running = await liveStatus(gantryPaths());
    if (others.length > 0)
      printLine(`Also serving: ${others.map((h) => h.serverUrl).join(', ')} (gantry gateway hubs list)`);
    printLine(
      running
        ? `Saved ${gantryPaths().sessionFile}. The running gateway serves the change now.`
        : `Saved ${gantryPaths().sessionFile}. Start it with: gantry gateway start`,
    );
  }
}

/**
 * Registers with the hub. Every needed value comes from flags, environment or config, falling back
 * to the saved registration with that hub system (whose first agent's key re-attaches), else to
 * the first hub's; what is still missing is named. Another hub system is added, not replaced.
 */
async function connectWith(
  flags: ConnectFlags,
  quiet = false,
): Promise<{ session: GatewaySession; trust?: Registration['trust'] }> {
  const given = connectSettings(flags);
  // Several URLs of one hub system: each must report the same hubId before anything is registered.
  const urls = given.serverUrl === undefined ? undefined : hubUrls(given.serverUrl);
  const systemId = urls ? await oneHubSystem(urls) : undefined;
  const {
    saved: hub,
    defaults: saved,
    hubId,
  } = await connectTarget(gantryPaths().sessionFile, urls, systemId);
  const settings = {
    serverUrl: urls?.[0] ?? saved?.serverUrl,
    provider: given.provider ?? saved?.provider,
    // Only this hub's own key: another hub's is never sent here.
    apiKey: given.apiKey ?? hub?.agents[0]?.key,
  };
  const missing = [
    settings.serverUrl ? undefined : '--hub',
    settings.provider ? undefined : '--provider',
    settings.apiKey ? undefined : '--api-key (or --api-key-file, GANTRY_API_KEY)',
  ].filter(Boolean);
  if (missing.length > 0 || !settings.serverUrl || !settings.provider || !settings.apiKey) {
    throw new ExitError(
      exitCodes.usage,
      `missing ${missing.join(', ')}: needed to connect this gateway to a hub`,
    );
  }
  requireOneSecret(
    settings.apiKey,
    'the agent key',
    'give exactly one key, as `gantry agents create` printed it',
  );
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
    ...(hub ? { previous: hub } : {}),
    ...(hubId ? { hubId } : {}),
  });
  const localPort = given.port === undefined ? saved?.localPort : parsePort(given.port, 7421);
  const known = keptUrls(urls, hub);
  const stored: GatewaySession = {
    ...session,
    ...(known.length > 1 ? { urls: known } : {}),
    ...(localPort !== undefined ? { localPort } : {}),
  };
  saveSession(gantryPaths().sessionFile, stored);
  const bound = loadBindings(gantryPaths().bindingsFile);
  for (const agent of session.agents.filter((a) => !bound[a.id]))
    ensureAgentFolder(session.workspaceRoot, agent);
  // A device the hub does not trust yet serves nothing until a person approves it.
  if (!quiet && trust && trust.status !== 'trusted') process.stderr.write(`gantry: ${trust.message}\n`);
  return { session: stored, ...(trust ? { trust } : {}) };
}

// ---- start / run --------------------------------------------------------------------------------

export async function start(
  given: StartFlags & { serverUrl?: string; apiKey?: string; apiKeyFile?: string; detach?: boolean },
): Promise<void> {
  const flags = await withApiKey(given);
  const saved = loadSession(gantryPaths().sessionFile);
  if (!saved) {
    throw new ExitError(
      exitCodes.usage,
      'no saved gateway session: run `gantry gateway connect` (or `gantry gateway run`) with --hub, --provider and --api-key first',
    );
  }
  // A hub URL or agent key given now (flag, environment, config file) re-registers; --provider-arg
  // stays an argument of this run, not of the saved session.
  const session = movesHub(flags, saved) || flags.apiKey ? (await connectWith(flags)).session : saved;
  if (flags.detach) return startDetached(daemonSettings(flags, session), flags.json);
  await serve(session, flags);
}

/**
 * The URLs of a hub system to save: several given replace the saved ones; one given that the
 * system's registration knows keeps them all (first the one given); none given keeps them.
 */
function keptUrls(given: string[] | undefined, hub: GatewaySession | undefined): string[] {
  const saved = hub ? urlsOf(hub) : [];
  if (!given) return saved;
  const [url] = given;
  if (given.length > 1 || url === undefined || !saved.includes(url)) return given;
  return [url, ...saved.filter((u) => u !== url)];
}

/** Whether the settings (flag, GANTRY_HUB_URL, config file) name a hub URL none of the saved hubs has. */
function movesHub(flags: ConnectFlags, saved: GatewaySession): boolean {
  const value = connectSettings(flags).serverUrl;
  if (value === undefined) return false;
  const served = [saved, ...loadSessions(gantryPaths().sessionFile)].flatMap(urlsOf);
  return hubUrls(value).some((url) => !served.includes(url));
}

/** The settings a daemon is started with, recorded so `restart` and the watchdog start it alike. */
function daemonSettings(flags: StartFlags, session?: GatewaySession): DaemonSettings {
  const settings = resolveSettings(flags, { ...(session ? { session } : {}) });
  return {
    port: parsePort(String(settings.port.value), 7421),
    ...(flags.config ? { config: resolve(flags.config) } : {}),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
    ...(flags.outboxMaxMb ? { outboxMaxMb: flags.outboxMaxMb } : {}),
    providerArgs: [...(flags.providerArg ?? []), ...(flags.providerOption ?? [])],
  };
}

/**
 * `gateway run`: with no saved session, connect (every needed flag must be there) and start; with a
 * saved session and no connect flags, start from it; with connect flags, reconnect with them first.
 */
export async function runGateway(given: ConnectFlags & StartFlags): Promise<void> {
  const flags = await withApiKey(given);
  const saved = loadSession(gantryPaths().sessionFile);
  if (saved && !hasConnectFlags(flags) && !movesHub(flags, saved)) return serve(saved, flags);
  // Connecting saves the provider args in the session; they are not added a second time at start.
  await serve((await connectWith(flags)).session, { ...flags, providerArg: [], providerOption: [] });
}

async function serve(session: GatewaySession, flags: StartFlags): Promise<void> {
  const paths = gantryPaths();
  const fromFile = connectSettings(flags);
  const mode = daemonMode();
  delete process.env.GANTRY_DAEMON_MODE; // the daemon's own; not for what it spawns
  const logFile = setupDaemonLog(paths, mode, {
    ...(fromFile.logMaxMb ? { maxBytes: Math.round(fromFile.logMaxMb * 1024 * 1024) } : {}),
    ...(fromFile.logFiles ? { files: fromFile.logFiles } : {}),
  });
  const concurrency = Number(fromFile.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new GantryError('invalid_request', '--concurrency must be a whole number from 1 to 256');
  }
  const outboxMaxMb = Number(fromFile.outboxMaxMb ?? 512);
  if (!(outboxMaxMb > 0))
    throw new GantryError('invalid_request', '--outbox-max-mb must be a positive number');
  const providerArgs = [...(flags.providerArg ?? []), ...(flags.providerOption ?? [])];
  const log = createLogger('gateway');
  const gateway = new Gateway({
    paths,
    sessions: servedHubs(session),
    concurrency,
    providerArgs,
    graces: stopGraces(),
    outboxMaxBytes: Math.round(outboxMaxMb * 1024 * 1024),
    permissionTimeoutMs: permissionTimeoutMs(),
    log,
  });
  const { asked, stopAsked } = stopRequests();
  let api;
  try {
    for (const check of (await gateway.providerChecks()).filter((c) => !c.ok))
      log.warn('agent unavailable: its provider cannot run here', {
        agent: check.agent,
        provider: check.provider,
        detail: check.detail,
      });
    api = await startLocalApi(
      gateway,
      paths,
      parsePort(fromFile.port, session.localPort ?? 7421),
      log,
      asked,
    );
  } catch (err) {
    gateway.close();
    throw err;
  }
  await gateway.start();
  writeDaemonRecord(paths, {
    pid: process.pid,
    startedAt: gateway.startedAt.toISOString(),
    mode,
    logFile,
    localApiUrl: api.url,
    settings: daemonSettings(flags, session),
  });
  const connected = await gateway.whenConnected(3000);
  // Before the ready line: a signal sent as soon as it shows is caught.
  const signalled = untilSignal();
  if (flags.json) printJsonLine({ ...sessionView(session), localApiUrl: api.url, concurrency, connected });
  else {
    printLine(
      `Gateway ${session.gatewayName} (${session.gatewayId}) serving ${session.agents.map((a) => a.name).join(', ')}`,
    );
    printLine(
      `Hub ${urlsOf(session).join(', ')} · local API ${api.url} · up to ${concurrency} at once. Stop with Ctrl+C or: gantry gateway stop.`,
    );
    if (!connected)
      printLine(`The hub does not answer yet; the gateway keeps trying and serves once it does.`);
  }
  await untilStopped(gateway, stopAsked, log, signalled);
  await api.close();
  log.info('the gateway has stopped');
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

/** Every hub in the session file, with the one just connected (or given) among them. */
function servedHubs(session: GatewaySession): GatewaySession[] {
  const saved = loadSessions(gantryPaths().sessionFile);
  return saved.some((s) => s.gatewayId === session.gatewayId) ? saved : [session, ...saved];
}

function sessionView(session: GatewaySession) {
  return {
    serverUrl: session.serverUrl,
    urls: urlsOf(session),
    workspaceId: session.workspaceId,
    gateway: { id: session.gatewayId, name: session.gatewayName },
    provider: session.provider,
    workspaceRoot: session.workspaceRoot,
    agents: session.agents.map((a) => ({ id: a.id, name: a.name })),
  };
}

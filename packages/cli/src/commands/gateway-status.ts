/**
 * `gantry gateway status [--json]`: running or not (exit 0 / 3), its pid and uptime, the hubs and
 * their connection, agents with their providers, running attempts, outbox depth, the last error,
 * and how it was started (detached, foreground, service) with its log file.
 */
import { existsSync } from 'node:fs';
import {
  createProvider,
  GatewayDb,
  gantryPaths,
  loadBindings,
  loadSessions,
  urlsOf,
  type GatewaySession,
} from '@gantry/gateway';
import { daemonStatus } from '../daemon.ts';
import { readDaemonRecord } from '../daemon-record.ts';
import { formatDuration } from '../duration.ts';
import { exitCodes, printJson, printLine } from '../output.ts';
import { sharingWarnings } from '../gateway-folders.ts';

export async function status(flags: { json?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const sessions = loadSessions(paths.sessionFile);
  const session = sessions[0];
  const daemon = await daemonStatus(paths);
  const live = daemon.state === 'running' ? daemon.status : undefined;
  const record = readDaemonRecord(paths);
  const running = daemon.state !== 'stopped';
  const view = {
    running,
    answering: daemon.state === 'running',
    pid: live?.pid ?? (daemon.state === 'unreachable' ? daemon.pid : null),
    startedAt: live?.startedAt ?? null,
    uptimeS: live?.uptimeS ?? null,
    mode: running ? (record?.mode ?? null) : null,
    logFile: record?.logFile ?? null,
    connected: live?.connected === true,
    serverUrl: session?.serverUrl ?? null,
    connectedUrl: live?.connectedUrl ?? null,
    gateway: session ? { id: session.gatewayId, name: session.gatewayName } : null,
    localApiUrl: live?.localApiUrl ?? null,
    hubs:
      live?.hubs ??
      sessions.map((s) => ({
        url: s.serverUrl,
        connectedUrl: null,
        urls: urlsOf(s),
        hubId: s.hubId ?? null,
        state: 'offline',
        lastContactAt: null,
        gatewayId: s.gatewayId,
        agents: s.agents.map((a) => a.name),
      })),
    agents:
      live?.agents ??
      sessions.flatMap((s) => s.agents.map((a) => ({ id: a.id, name: a.name, provider: s.provider }))),
    providers: live?.providers ?? (await Promise.all(sessions.map((s) => localChecks(paths, s)))).flat(),
    runningAttempts: live?.running ?? [],
    outboxDepth: live?.outboxDepth ?? (existsSync(paths.gatewayDb) ? outboxDepth(paths.gatewayDb) : 0),
    lastContactAt: live?.lastContactAt ?? null,
    lastError: live?.lastError ?? null,
    warnings: session ? sharingWarnings(session) : [],
    draining: live?.draining ?? false,
    refused: live?.refused ?? null,
    pending: live?.pending ?? null,
  };
  if (!running) process.exitCode = exitCodes.notFound;
  if (flags.json) return printJson(view);
  if (!session) {
    printLine(
      'No gateway on this machine yet: run `gantry gateway run --hub URL --provider P --api-key KEY`.',
    );
    return;
  }
  printLine(`Gateway     ${session.gatewayName} (${session.gatewayId})`);
  printLine(`Daemon      ${daemonLine(view, daemon)}`);
  const several = view.hubs.length > 1;
  for (const hub of view.hubs)
    printLine(
      `Hub         ${hubUrlsLine(hub)} ${view.running ? connection(hub.state === 'offline' ? view : hubConnection(hub)) : '(gateway not running)'}${several && hub.agents ? ` · ${hub.agents.join(', ')}` : ''}`,
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
  if (view.lastError) printLine(`Last error  ${view.lastError.at} ${view.lastError.message}`);
  for (const warning of view.warnings) printLine(`Warning     ${warning}`);
  if (view.logFile) printLine(`Log         ${view.logFile}`);
}

function daemonLine(
  view: {
    running: boolean;
    pid: number | null;
    uptimeS: number | null;
    mode: string | null;
    draining: boolean;
  },
  daemon: Awaited<ReturnType<typeof daemonStatus>>,
): string {
  if (daemon.state === 'stopped') return 'not running';
  if (daemon.state === 'unreachable')
    return `running (pid ${daemon.pid}) but NOT answering at ${daemon.url}: ${daemon.reason}`;
  const uptime = view.uptimeS === null ? '' : `, up ${formatDuration(view.uptimeS * 1000)}`;
  const mode = view.mode ? `, ${view.mode}` : '';
  return `running (pid ${view.pid}${uptime}${mode}${view.draining ? ', DRAINING' : ''}), local API ${daemon.status.localApiUrl}`;
}

/** A hub's URL; with several of one system, all of them and which one the gateway is connected to. */
function hubUrlsLine(hub: { url: string; urls?: string[]; connectedUrl?: string | null }): string {
  const urls = hub.urls ?? [hub.url];
  if (urls.length < 2) return hub.url;
  return hub.connectedUrl
    ? `${hub.connectedUrl} (also ${urls.filter((u) => u !== hub.connectedUrl).join(', ')})`
    : urls.join(', ');
}

function hubConnection(hub: {
  state: string;
  connected?: boolean;
  refused?: string | null;
  pending?: string | null;
}) {
  return {
    connected: hub.connected ?? hub.state === 'connected',
    refused: hub.refused ?? null,
    pending: hub.pending ?? null,
  };
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

/**
 * The gateway's checks: workspace root, its database, the hub (URL, reachable, token, device,
 * clock), each agent's provider, CODEX_HOME, the local API port, and the service and watchdog.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createProvider,
  loadBindings,
  loadSession,
  urlsOf,
  type GantryPaths,
  type GatewaySession,
} from '@gantry/gateway';
import { liveStatus } from '../daemon.ts';
import { gatewayAddress } from '../service/gateway-health.ts';
import { error, ok, warn, type Check } from './check.ts';
import { hubChecks } from './hub-reach.ts';
import { hubUrlsCheck } from './hub-urls-check.ts';
import { portFree, portHolder } from './port.ts';
import { serviceChecks } from './service-checks.ts';
import { sqliteCheck } from './sqlite.ts';
import { fetchWithin } from '../fetch-within.ts';

const installFix: Record<string, string> = {
  codex: 'npm install -g @openai/codex (or `gantry gateway bind --agent AGENT --provider-bin PATH`)',
  'claude-code':
    'npm install -g @anthropic-ai/claude-code (or `gantry gateway bind --agent AGENT --provider-bin PATH`)',
  acp: 'install the ACP agent, or point to it: `gantry gateway bind --agent AGENT --provider acp --provider-bin PATH`',
  ollama: 'start Ollama (`ollama serve`) or set OLLAMA_HOST to where it runs',
  generic: 'point to the command: `gantry gateway bind --agent AGENT --provider-bin PATH`',
};

export async function gatewayChecks(paths: GantryPaths, port: number): Promise<Check[]> {
  let session: GatewaySession | undefined;
  const checks: Check[] = [];
  try {
    session = loadSession(paths.sessionFile);
  } catch (err) {
    checks.push(
      error(
        'gateway session',
        (err as Error).message,
        `gantry gateway connect --hub URL --provider P --api-key-file FILE`,
      ),
    );
  }
  checks.push(workspaceRootCheck(session?.workspaceRoot ?? paths.defaultWorkspaceRoot));
  checks.push(await sqliteCheck('gateway database', paths.gatewayDb));
  const live = await liveStatus(paths).catch(() => undefined);
  if (!session) {
    if (checks.every((c) => c.name !== 'gateway session'))
      checks.push(
        warn(
          'gateway session',
          'this machine has no gateway yet',
          'gantry gateway connect --hub URL --provider P --api-key-file FILE',
        ),
      );
  } else {
    const hubUrl = await currentHub(session, live);
    checks.push(...(await hubChecks(hubUrl, session.gatewayToken, 'gateway token')));
    const urlsCheck = await hubUrlsCheck(urlsOf(session), session.hubId);
    if (urlsCheck) checks.push(urlsCheck);
    checks.push(deviceCheck(live));
    checks.push(...(await providerChecks(paths, session)));
    const codexCheck = codexHomeCheck(paths, session);
    if (codexCheck) checks.push(codexCheck);
  }
  checks.push(await localPortCheck(paths, port));
  checks.push(...serviceChecks('gateway', paths));
  return checks;
}

/**
 * The hub the checks ask: the one the running daemon is connected to (after a failover, another of
 * `--hub URL1,URL2` than the first); without a connected daemon, the first of its URLs that answers.
 */
async function currentHub(
  session: GatewaySession,
  live: Awaited<ReturnType<typeof liveStatus>>,
): Promise<string> {
  const connected =
    live?.hubs?.find((h) => h.gatewayId === session.gatewayId)?.connectedUrl ?? live?.connectedUrl;
  if (connected) return connected;
  const urls = urlsOf(session);
  if (urls.length === 1) return session.serverUrl;
  for (const url of urls) {
    const answer = await fetchWithin(`${url}/v1/health`, 3000).catch(() => undefined);
    if (answer?.ok) return url;
  }
  return session.serverUrl;
}

function workspaceRootCheck(root: string): Check {
  const name = 'workspace root';
  if (!existsSync(root)) return ok(name, `${root}: made at the first run`);
  try {
    accessSync(root, constants.W_OK);
    return ok(name, `${root} is writable`);
  } catch {
    return error(
      name,
      `${root} is not writable by this user`,
      `chmod u+w ${root} (or \`gantry gateway connect --workspace-root DIR\`)`,
    );
  }
}

function deviceCheck(live: Awaited<ReturnType<typeof liveStatus>>): Check {
  const name = 'device approval';
  if (!live) return ok(name, 'the daemon is not running; `gantry gateway status` shows it once connected');
  if (live.refused)
    return error(
      name,
      `the hub refuses this gateway: ${live.refused}`,
      'gantry gateway connect --api-key-file FILE (with a key the hub accepts)',
    );
  if (live.pending)
    return warn(
      name,
      `waiting: ${live.pending}`,
      'an owner or admin runs `gantry approvals list --status pending` and `gantry approvals approve ID`',
    );
  return ok(name, live.connected ? 'connected and serving' : 'not connected yet (retrying)');
}

async function providerChecks(paths: GantryPaths, session: GatewaySession): Promise<Check[]> {
  const bindings = loadBindings(paths.bindingsFile);
  return Promise.all(
    session.agents.map(async (agent) => {
      const bound = bindings[agent.id];
      const provider = bound?.provider ?? agent.provider ?? session.provider;
      const bin = bound?.providerBin ?? agent.providerBin ?? session.providerBin;
      const settings = bound?.settings ?? agent.settings ?? session.settings;
      const name = `provider ${agent.name}`;
      try {
        const check = await createProvider(provider, { ...(bin ? { bin } : {}), settings }).check();
        if (check.ok)
          return ok(name, `${provider}${check.version ? ` ${check.version}` : ''}: ${check.detail}`);
        return error(
          name,
          `${provider}: ${check.detail}`,
          (installFix[provider] ?? 'gantry gateway bind --agent AGENT --provider-bin PATH').replaceAll(
            'AGENT',
            agent.name,
          ),
        );
      } catch (err) {
        return error(
          name,
          `${provider}: ${(err as Error).message}`,
          `gantry gateway bind --agent ${agent.name} --provider PROVIDER`,
        );
      }
    }),
  );
}

function codexHomeCheck(paths: GantryPaths, session: GatewaySession): Check | undefined {
  const bindings = loadBindings(paths.bindingsFile);
  const usesCodex = session.agents.some(
    (a) => (bindings[a.id]?.provider ?? a.provider ?? session.provider) === 'codex',
  );
  if (!usesCodex) return undefined;
  const home = process.env.CODEX_HOME;
  if (!home)
    return ok('CODEX_HOME', `not set: codex keeps its state in ${join(process.env.HOME ?? '~', '.codex')}`);
  if (!existsSync(home))
    return warn('CODEX_HOME', `${home} does not exist`, `mkdir -p ${home} (or unset CODEX_HOME)`);
  try {
    accessSync(home, constants.W_OK);
    return ok('CODEX_HOME', `${home} is writable`);
  } catch {
    return error('CODEX_HOME', `${home} is not writable`, `chmod u+w ${home}`);
  }
}

/** Free, or held by this gateway, is fine; held by anything else, the gateway cannot start. */
async function localPortCheck(paths: GantryPaths, port: number): Promise<Check> {
  const name = 'local API port';
  // The running gateway's own port, when it answers there (it may have been started with --port).
  const address = gatewayAddress(paths);
  const runningOn = address
    ? await fetchWithin(`${address.url}/api/health`, 3000)
        .then((health) => (health.ok ? Number(new URL(address.url).port) : undefined))
        .catch(() => undefined)
    : undefined;
  if (runningOn === port) return ok(name, `${port} is this gateway's (pid ${address?.pid})`);
  const elsewhere =
    runningOn === undefined ? '' : `; this gateway runs on ${runningOn} (pid ${address?.pid})`;
  if (port === 0) return ok(name, `port 0: a free port is picked at start${elsewhere}`);
  if (await portFree(port)) return ok(name, `${port} is free${elsewhere}`);
  const holder = portHolder(port);
  return error(
    name,
    `${port} is taken by ${holder ?? 'another process'}, not this gateway`,
    `stop that process, or use another port: \`gantry gateway start --port ${port + 1}\` (or \`port = ${port + 1}\` under [gateway] in config.toml)`,
  );
}

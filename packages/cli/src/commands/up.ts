/**
 * `gantry up`: everything on one machine in one process — an embedded hub (SQLite), a gateway
 * serving an `echo` agent, and this CLI logged in — so a first assignment is one command away.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentKeySchema, createdAgentSchema, createLogger, GantryError, meSchema } from '@gantry/protocol';
import { startHub } from '@gantry/hub';
import {
  defaultGatewayName,
  Gateway,
  gantryPaths,
  type GantryPaths,
  loadSession,
  register,
  saveSession,
  startLocalApi,
} from '@gantry/gateway';
import { HubClient } from '../client.ts';
import { loadLogin, saveLogin } from '../credentials.ts';
import { runningPid } from '../daemon-record.ts';
import { hubWebOptions, type HubWebFlags } from '../hub-web-options.ts';
import { resolveSettings } from '../gateway-settings.ts';
import { stopRequests, untilStopped } from '../daemon-stop.ts';
import { parsePort, untilSignal } from '../lifecycle.ts';
import { printJsonLine, printLine } from '../output.ts';
import { stopGraces } from './gateway.ts';
import { dispatchSettings } from './hub.ts';

const agentName = 'echo';

/**
 * A second `gantry up` (or one beside `gantry gateway start`) from the same home: its gateway could
 * not run beside the one running, so it says so before starting anything, and what to do instead.
 */
function refuseIfUp(paths: GantryPaths): void {
  const pid = runningPid(paths);
  if (pid === undefined) return;
  const hub = loadLogin()?.url;
  throw new GantryError(
    'conflict',
    `Gantry is already running from ${paths.data} (gateway pid ${pid}${hub ? `, hub ${hub}` : ''}): use it (gantry assign echo hi --wait), or stop it first (Ctrl+C where it runs, or kill ${pid}); another GANTRY_HOME runs a second one`,
  );
}

export async function up(
  options: {
    port: string;
    gatewayPort?: string;
    config?: string;
    dataDir?: string;
    json?: boolean;
  } & HubWebFlags,
) {
  const paths = gantryPaths();
  const dataDir = options.dataDir ?? paths.data;
  const dbPath = join(dataDir, 'hub.db');
  refuseIfUp(paths);
  const hub = await startHub({
    host: '127.0.0.1',
    port: parsePort(options.port, 7420),
    db: dbPath,
    dataDir,
    settings: dispatchSettings({}),
    ...hubWebOptions(options),
    log: createLogger('hub', 'warn'),
  });
  try {
    const ownerToken = hub.bootstrap.ownerToken ?? readOwnerToken(hub.bootstrap.ownerTokenPath);
    const client = new HubClient({ url: hub.url, urlSource: 'flag', token: ownerToken, tokenSource: 'flag' });
    const me = await client.request('GET', '/v1/me', meSchema);
    saveLogin({ url: hub.url, token: ownerToken, principal: me.principal, workspace: me.workspace });

    const previous = loadSession(paths.sessionFile);
    const sameHub = previous?.serverUrl === hub.url;
    const connectEcho = (apiKey: string) =>
      register({
        serverUrl: hub.url,
        apiKey,
        provider: 'echo',
        providerArgs: [],
        settings: {},
        gatewayName: sameHub ? previous.gatewayName : defaultGatewayName(),
        workspaceRoot: previous?.workspaceRoot ?? paths.defaultWorkspaceRoot,
        ...(previous ? { previous } : {}),
      });
    const savedKey = sameHub ? previous.agents.find((a) => a.name === agentName)?.key : undefined;
    // A saved key the hub no longer knows (its database was replaced) gives way to a fresh one.
    const session = savedKey
      ? await connectEcho(savedKey).catch(async (err: unknown) => {
          if (!(err instanceof GantryError) || err.code !== 'unauthorized') throw err;
          return connectEcho(await echoAgentKey(client));
        })
      : await connectEcho(await echoAgentKey(client));
    saveSession(paths.sessionFile, session);

    const log = createLogger('gateway', 'warn');
    const { asked, stopAsked } = stopRequests();
    const gateway = new Gateway({ paths, sessions: [session], graces: stopGraces(), log });
    const api = await startLocalApi(
      gateway,
      paths,
      // As `gateway start` takes it: flag > GANTRY_GATEWAY_PORT > config file > 7421.
      parsePort(
        String(resolveSettings({ port: options.gatewayPort, config: options.config }).port.value),
        7421,
        'gateway port',
      ),
      log,
      asked,
    );
    await gateway.start();
    await gateway.whenConnected(3000);

    // Before the ready line: a signal sent as soon as it shows is caught.
    const signalled = untilSignal();
    if (options.json) {
      printJsonLine({
        hub: { url: hub.url, dashboard: hub.dashboardUrl, store: hub.storeKind, db: dbPath },
        gateway: { id: session.gatewayId, name: session.gatewayName, localApiUrl: api.url },
        agent: session.agents.find((a) => a.name === agentName)?.id,
        ownerTokenFile: hub.bootstrap.ownerTokenPath,
      });
    } else {
      printLine('Gantry is up.');
      printLine(`  hub        ${hub.url}  (SQLite ${dbPath})`);
      printLine(`  dashboard: ${hub.dashboardUrl}  (sign in: npx gantry dashboard)`);
      printLine(`  gateway    ${session.gatewayName} (${session.gatewayId}), local API ${api.url}`);
      printLine(`  agent      ${agentName}, served by the echo provider`);
      printLine(
        `  logged in  as ${me.principal.name}; the owner token is in ${hub.bootstrap.ownerTokenPath}`,
      );
      printLine('');
      printLine('Try, from another shell:');
      printLine(`  npx gantry assign ${agentName} "hello" --wait`);
      printLine('  npx gantry assignments list');
      printLine('  npx gantry gateways list');
      printLine('Stop with Ctrl+C.');
    }
    await untilStopped(gateway, stopAsked, log, signalled);
    await api.close();
  } finally {
    await hub.close();
  }
}

/** The echo agent's key: a new agent on first run, else a fresh key for the existing one. */
async function echoAgentKey(client: HubClient): Promise<string> {
  try {
    return (await client.request('POST', '/v1/agents', createdAgentSchema, { name: agentName })).key;
  } catch (err) {
    if (!(err instanceof GantryError) || err.code !== 'conflict') throw err;
    return (await client.request('POST', `/v1/agents/${agentName}/keys`, agentKeySchema, {})).key;
  }
}

function readOwnerToken(path: string): string {
  if (!existsSync(path)) {
    throw new GantryError(
      'not_found',
      `the owner token file ${path} is missing; this data folder's hub cannot be used by \`up\``,
    );
  }
  return readFileSync(path, 'utf8').trim();
}

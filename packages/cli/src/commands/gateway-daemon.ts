/**
 * The gateway daemon's lifecycle for machines without a service manager: `gateway start --detach`
 * (a background process with its pid file, log file and recorded settings), `gateway stop
 * [--drain [--timeout D]]`, `gateway restart` (the recorded settings again) and `gateway logs`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GantryError } from '@gantry/protocol';
import { gantryPaths, loadSession, localToken, processAlive, type GantryPaths } from '@gantry/gateway';
import { liveStatus } from '../daemon.ts';
import { readDaemonRecord, runningPid, startArguments, type DaemonSettings } from '../daemon-record.ts';
import { parseDuration } from '../duration.ts';
import { ExitError, exitCodes, printJson, printLine } from '../output.ts';
import { lastLines } from './gateway-logs.ts';

/** How long a detached daemon may take to open its local API. */
const readyTimeoutMs = 30_000;

/** Starts the daemon in the background with these settings; resolves once its local API answers. */
export async function startDetached(settings: DaemonSettings, json = false): Promise<void> {
  const paths = gantryPaths();
  const pid = runningPid(paths);
  if (pid) throw new GantryError('conflict', `the gateway is already running (pid ${pid}); stop it first`);
  if (!loadSession(paths.sessionFile))
    throw new ExitError(
      exitCodes.usage,
      'no saved gateway session: run `gantry gateway connect` with --hub, --provider and --api-key first',
    );
  mkdirSync(dirname(paths.logFile), { recursive: true, mode: 0o700 });
  // The log file also takes what the process prints before it opens the log itself, and a crash.
  const out = openSync(paths.logFile, 'a', 0o600);
  const from = existsSync(paths.logFile) ? readFileSync(paths.logFile).length : 0;
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1] ?? '', 'gateway', 'start', ...startArguments(settings)],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, GANTRY_DAEMON_MODE: 'detached' },
    },
  );
  closeSync(out);
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code));
  child.unref();
  const until = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitCode !== undefined) {
      const said = lastLines(readFileSync(paths.logFile, 'utf8').slice(from), 5).find((l) =>
        l.startsWith('gantry:'),
      );
      throw new ExitError(
        exitCode || 1,
        `the gateway did not start: ${said?.replace(/^gantry:\s*/, '') ?? `it exited ${exitCode}`} (log: ${paths.logFile})`,
      );
    }
    if (runningPid(paths) === child.pid && (await liveStatus(paths))) break;
    if (Date.now() > until)
      throw new GantryError('timeout', `the gateway did not answer within 30s (log: ${paths.logFile})`);
    await sleep(50);
  }
  const live = await liveStatus(paths);
  if (json)
    return printJson({
      pid: child.pid,
      localApiUrl: live?.localApiUrl,
      logFile: paths.logFile,
      connected: live?.connected ?? false,
    });
  printLine(`Gateway started in the background (pid ${child.pid}), local API ${live?.localApiUrl}`);
  printLine(`Log: ${paths.logFile} (gantry gateway logs -f) · stop it with: gantry gateway stop`);
}

export async function stop(flags: { drain?: boolean; timeout?: string; json?: boolean }): Promise<void> {
  if (flags.timeout !== undefined && !flags.drain)
    throw new GantryError(
      'invalid_request',
      '--timeout goes with --drain: how long running work may take to finish',
    );
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout');
  const paths = gantryPaths();
  const pid = await stopDaemon(paths, flags.drain ? 'drain' : 'stop', timeoutMs);
  if (flags.json) return printJson({ stopped: pid !== undefined, pid: pid ?? null });
  printLine(pid ? `Stopped the gateway (pid ${pid}).` : 'The gateway is not running.');
}

export async function restart(flags: { config?: string; json?: boolean }): Promise<void> {
  const paths = gantryPaths();
  const record = readDaemonRecord(paths);
  if (runningPid(paths) && record?.mode === 'service')
    throw new ExitError(
      exitCodes.failure,
      'this gateway runs under a service manager: restart it with `gantry gateway service restart`',
    );
  // Runs go on: the old process hands them over and the new one takes them back.
  await stopDaemon(paths, 'handover');
  const settings = record?.settings ?? { providerArgs: [] };
  await startDetached(flags.config ? { ...settings, config: resolve(flags.config) } : settings, flags.json);
}

/**
 * Asks the running daemon to stop (through its local API, or SIGTERM when that does not answer)
 * and waits until it has exited. Resolves with its pid, or undefined when none was running.
 */
export async function stopDaemon(
  paths: GantryPaths,
  mode: 'stop' | 'drain' | 'handover',
  timeoutMs?: number,
): Promise<number | undefined> {
  const pid = runningPid(paths);
  if (!pid) return undefined;
  if (!(await askToStop(paths, mode, timeoutMs))) process.kill(pid, 'SIGTERM');
  // Stopping runs takes their graces; a drain takes as long as the work (or its --timeout).
  const limit = mode === 'drain' && timeoutMs === undefined ? Infinity : (timeoutMs ?? 0) + 60_000;
  const until = Date.now() + limit;
  let killed = false;
  while (processAlive(pid)) {
    if (Date.now() > until && !killed) {
      killed = true;
      process.stderr.write(`gantry: the gateway (pid ${pid}) did not exit in time: killing it\n`);
      process.kill(pid, 'SIGKILL');
    }
    await sleep(50);
  }
  return pid;
}

async function askToStop(paths: GantryPaths, mode: string, timeoutMs?: number): Promise<boolean> {
  const live = await liveStatus(paths);
  if (!live) return false;
  try {
    const response = await fetch(`${live.localApiUrl}/api/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${localToken(paths)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }),
      signal: AbortSignal.timeout(5000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

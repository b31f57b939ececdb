/**
 * `gantry gateway watchdog [--once]`: checks the gateway's `/api/health` and restarts it when it
 * is dead, not answering or hung (service/watchdog.ts). `--once` is what the service's timer runs;
 * without it the checks repeat every `--interval` until SIGINT/SIGTERM.
 */
import { gantryPaths, loadSession } from '@gantry/gateway';
import { parseDuration } from '../duration.ts';
import { resolveSettings } from '../gateway-settings.ts';
import { parsePort } from '../lifecycle.ts';
import { exitCodes, printJsonLine, printLine } from '../output.ts';
import { watchdogCheck, type CheckReport } from '../service/watchdog.ts';

interface WatchdogFlags {
  once?: boolean;
  interval?: string;
  timeout?: string;
  port?: string;
  config?: string;
  json?: boolean;
}

export async function watchdog(flags: WatchdogFlags): Promise<void> {
  const paths = gantryPaths();
  const session = loadSession(paths.sessionFile);
  // The port as `gateway start` takes it: flag > GANTRY_GATEWAY_PORT > file > saved at connect > 7421.
  const port = resolveSettings(flags, { ...(session ? { session } : {}) }).port.value;
  const options = {
    paths,
    port: parsePort(String(port), 7421),
    ...(flags.config ? { config: flags.config } : {}),
    timeoutMs: parseDuration(flags.timeout ?? '5s', '--timeout'),
    restartTimeoutMs: 30_000,
  };
  if (flags.once) {
    const report = await watchdogCheck(options);
    print(report, flags.json === true);
    process.exitCode = report.outcome === 'failed' ? exitCodes.failure : exitCodes.ok;
    return;
  }
  const intervalMs = parseDuration(flags.interval ?? '60s', '--interval');
  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopping = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopping) {
    print(await watchdogCheck(options), flags.json === true);
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, intervalMs).unref();
    });
  }
}

function print(report: CheckReport, json: boolean): void {
  if (json)
    return printJsonLine({
      at: report.at,
      outcome: report.outcome,
      healthy: report.health.healthy,
      reason: report.health.healthy ? null : report.health.reason,
      detail: report.health.healthy ? null : report.health.detail,
      pid: report.health.pid,
      recovery: report.recovery,
      consecutiveFailures: report.state.consecutiveFailures,
      failedRecoveries: report.state.failedRecoveries,
      critical: report.critical,
    });
  if (report.outcome === 'healthy')
    return printLine(`${report.at} gateway healthy (pid ${report.health.pid ?? '?'})`);
  const health = report.health.healthy ? 'healthy' : `${report.health.reason}: ${report.health.detail}`;
  printLine(
    `${report.at} gateway ${health}; ${report.outcome}${report.recovery ? ` (${report.recovery.how}: ${report.recovery.detail})` : ''}`,
  );
}

/** Whether the service is installed and running, and what the watchdog's last checks found. */
import { existsSync } from 'node:fs';
import type { GantryPaths } from '@gantry/gateway';
import { managerFor } from '../commands/service.ts';
import { servicePlan } from '../service/plan.ts';
import type { ServiceKind } from '../service/names.ts';
import { serviceTarget } from '../service/target.ts';
import { readWatchdogState, watchdogStateFile } from '../service/watchdog-state.ts';
import { error, ok, warn, type Check } from './check.ts';

export function serviceChecks(kind: ServiceKind, paths: GantryPaths): Check[] {
  const checks: Check[] = [];
  const name = `${kind} service`;
  if (process.platform !== 'linux' && process.platform !== 'darwin') return checks;
  const installed = [false, true]
    .map((system) => servicePlan(serviceTarget(kind, { system, dryRun: true })))
    .find((plan) => existsSync(plan.files[0]?.path ?? ''));
  if (!installed)
    checks.push(
      ok(name, `not installed (optional: \`gantry ${kind} service install\` runs it at every start)`),
    );
  else {
    const manager = managerFor(installed.target);
    const why = manager.unavailable();
    if (why !== undefined)
      checks.push(
        warn(
          name,
          `installed (${installed.files[0]?.path}) but ${manager.name} is not available here: ${why}`,
          `gantry ${kind} service uninstall, or run it where ${manager.name} runs`,
        ),
      );
    else {
      const state = manager.status(installed);
      if (state.running)
        checks.push(ok(name, `${installed.main}: ${state.detail}${state.pid ? `, pid ${state.pid}` : ''}`));
      else checks.push(warn(name, `${installed.main}: ${state.detail}`, `gantry ${kind} service start`));
      if (state.watchdog && !state.watchdog.active)
        checks.push(
          warn(
            'watchdog timer',
            `${state.watchdog.name}: ${state.watchdog.detail}`,
            `gantry ${kind} service start`,
          ),
        );
    }
  }
  if (kind === 'gateway') checks.push(watchdogCheck(paths));
  return checks;
}

function watchdogCheck(paths: GantryPaths): Check {
  const state = readWatchdogState(paths);
  if (!existsSync(watchdogStateFile(paths))) return ok('watchdog', 'no checks yet');
  const last = state.lastFailure ? `; last failure ${state.lastFailure.at}: ${state.lastFailure.reason}` : '';
  if (state.failedRecoveries >= 3)
    return error(
      'watchdog',
      `${state.failedRecoveries} restarts in a row did not bring the gateway back${last}`,
      'gantry gateway service logs (or the log in the data folder), then fix what the checks above report',
    );
  if (state.consecutiveFailures > 0)
    return warn(
      'watchdog',
      `${state.consecutiveFailures} failed check(s) in a row${last}`,
      'gantry gateway watchdog --once',
    );
  return ok('watchdog', `healthy at ${state.lastCheckAt ?? 'the last check'}`);
}

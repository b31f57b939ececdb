/**
 * `gantry doctor`, `gantry gateway doctor`, `gantry hub doctor`: every check (doctor/) with ok,
 * warn or error and, for a warn or an error, the command that fixes it; exit 1 on any error. The
 * doctor changes nothing: it reads files, opens databases read-only and asks over the network.
 */
import { gantryPaths, loadSession } from '@gantry/gateway';
import type { Check } from '../doctor/check.ts';
import { folderChecks, nodeCheck } from '../doctor/common-checks.ts';
import { gatewayChecks } from '../doctor/gateway-checks.ts';
import { hubSideChecks } from '../doctor/hub-side.ts';
import { resolveSettings } from '../gateway-settings.ts';
import { parsePort } from '../lifecycle.ts';
import { exitCodes, printJson, printLine, table } from '../output.ts';

interface DoctorFlags {
  port?: string;
  hubPort?: string;
  config?: string;
  dataDir?: string;
  json?: boolean;
}

export async function doctor(flags: DoctorFlags): Promise<void> {
  const paths = gantryPaths();
  report(
    [
      nodeCheck(),
      ...folderChecks(paths),
      ...(await gatewayChecks(paths, gatewayPort(flags))),
      ...(await hubSideChecks(paths, parsePort(flags.hubPort, 7420, 'hub port'))),
    ],
    flags,
  );
}

export async function gatewayDoctor(flags: DoctorFlags): Promise<void> {
  const paths = gantryPaths();
  report([nodeCheck(), ...folderChecks(paths), ...(await gatewayChecks(paths, gatewayPort(flags)))], flags);
}

export async function hubDoctor(flags: DoctorFlags): Promise<void> {
  const paths = gantryPaths();
  report(
    [
      nodeCheck(),
      ...folderChecks(paths, flags.dataDir),
      ...(await hubSideChecks(paths, parsePort(flags.port, 7420), flags.dataDir)),
    ],
    flags,
  );
}

/** The port `gateway start` would use: --port > GANTRY_GATEWAY_PORT > config file > saved at connect > 7421. */
function gatewayPort(flags: DoctorFlags): number {
  let session;
  try {
    session = loadSession(gantryPaths().sessionFile);
  } catch {
    session = undefined; // a damaged session is the gateway checks' to report
  }
  const port = resolveSettings(flags, { ...(session ? { session } : {}) }).port.value;
  return parsePort(String(port), 7421);
}

function report(checks: Check[], flags: DoctorFlags): void {
  const errors = checks.filter((c) => c.status === 'error').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  process.exitCode = errors > 0 ? exitCodes.failure : exitCodes.ok;
  if (flags.json) return printJson({ checks });
  printLine(table(checks.map((c) => [c.status.toUpperCase(), c.name, c.detail])));
  const fixes = checks.filter((c) => c.fix !== null);
  if (fixes.length > 0) {
    printLine();
    printLine(`${errors} error(s), ${warnings} warning(s). To fix:`);
    for (const c of fixes) printLine(`  ${c.name}: ${c.fix}`);
  } else printLine('\nNo problems found.');
}

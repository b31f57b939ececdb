/**
 * launchd property lists: a LaunchAgent (the user's, no sudo) or, with `--system`, a LaunchDaemon
 * running as the user. The gateway's keeps its process group on stop (`AbandonProcessGroup`, as
 * systemd's `KillMode=process`) and is restarted when it fails; its watchdog runs every minute.
 */
import { join } from 'node:path';
import { gatewayStopTimeoutSec, launchdLabels, managerName, type ServiceTarget } from './names.ts';

type PlistValue =
  string | number | boolean | string[] | Record<string, string> | { [key: string]: PlistValue };

export function launchdPlist(target: ServiceTarget, label: string): string {
  const watchdog = label === launchdLabels.gateway.watchdog;
  const command =
    target.kind === 'hub'
      ? ['hub', 'start']
      : watchdog
        ? ['gateway', 'watchdog', '--once']
        : ['gateway', 'start'];
  const logs = join(target.dataDir, 'logs');
  const name = watchdog ? 'gateway-watchdog' : target.kind;
  const entries: Record<string, PlistValue> = {
    Label: label,
    ProgramArguments: [...target.command, ...command, ...target.args],
    EnvironmentVariables: {
      ...target.environment,
      GANTRY_SERVICE_MANAGER: managerName(target),
      GANTRY_DAEMON_MODE: 'service',
    },
    WorkingDirectory: target.user.home,
    ...(target.system ? { UserName: target.user.name } : {}),
    StandardOutPath: join(logs, `${name}.launchd.log`),
    StandardErrorPath: join(logs, `${name}.launchd.log`),
    ProcessType: 'Background',
  };
  if (watchdog) Object.assign(entries, { StartInterval: 60, RunAtLoad: false });
  else
    Object.assign(entries, {
      RunAtLoad: true,
      // Restarted when it fails; a clean stop (`gantry gateway service stop`) stays stopped.
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 5,
      ExitTimeOut: target.kind === 'gateway' ? gatewayStopTimeoutSec : 30,
      ...(target.kind === 'gateway' ? { AbandonProcessGroup: true } : {}),
    });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    `<!-- Written by \`gantry ${target.kind} service install\`; \`gantry ${target.kind} service uninstall\` removes it. -->`,
    '<plist version="1.0">',
    value(entries, ''),
    '</plist>',
    '',
  ].join('\n');
}

function value(v: PlistValue, indent: string): string {
  if (typeof v === 'string') return `${indent}<string>${xml(v)}</string>`;
  if (typeof v === 'number') return `${indent}<integer>${v}</integer>`;
  if (typeof v === 'boolean') return `${indent}<${v}/>`;
  const inner = `${indent}  `;
  if (Array.isArray(v))
    return `${indent}<array>\n${v.map((item) => value(item, inner)).join('\n')}\n${indent}</array>`;
  const pairs = Object.entries(v).map(
    ([key, item]) => `${inner}<key>${xml(key)}</key>\n${value(item, inner)}`,
  );
  return `${indent}<dict>\n${pairs.join('\n')}\n${indent}</dict>`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

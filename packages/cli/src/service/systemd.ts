/**
 * systemd units for a gateway (its service, and a watchdog service run every minute by a timer) or
 * a hub. The gateway unit uses `KillMode=process`: stopping or restarting it signals the daemon
 * alone, so runs it started are its to stop or hand over, and after a crash they outlive the
 * automatic restart. Secrets never go in a unit: `service.env` in the config folder (0600) is read
 * when present.
 */
import { join } from 'node:path';
import { gatewayStopTimeoutSec, managerName, unitNames, type ServiceTarget } from './names.ts';

export function systemdUnits(target: ServiceTarget): Record<string, string> {
  const header = `# Written by \`gantry ${target.kind} service install\`; \`gantry ${target.kind} service uninstall\` removes it.`;
  const common = serviceLines(target);
  const wantedBy = target.system ? 'multi-user.target' : 'default.target';
  if (target.kind === 'hub') {
    return {
      [unitNames.hub.service]: unit(header, {
        Unit: ['Description=Gantry hub', ...networkLines],
        Service: [
          'Type=simple',
          `ExecStart=${execLine([...target.command, 'hub', 'start', ...target.args])}`,
          ...common,
          'Restart=on-failure',
          'RestartSec=5s',
          'TimeoutStopSec=30s',
        ],
        Install: [`WantedBy=${wantedBy}`],
      }),
    };
  }
  const names = unitNames.gateway;
  return {
    [names.service]: unit(header, {
      Unit: ["Description=Gantry gateway: runs this machine's agents for its hubs", ...networkLines],
      Service: [
        'Type=simple',
        `ExecStart=${execLine([...target.command, 'gateway', 'start', ...target.args])}`,
        ...common,
        'Restart=on-failure',
        'RestartSec=5s',
        // Exit 2 is a usage error (no session yet, a bad flag): starting again would not help.
        'RestartPreventExitStatus=2',
        // The daemon alone is signalled: runs are detached from it and it decides what becomes of them.
        'KillMode=process',
        'KillSignal=SIGTERM',
        `TimeoutStopSec=${gatewayStopTimeoutSec}s`,
      ],
      Install: [`WantedBy=${wantedBy}`],
    }),
    [names.watchdogService]: unit(header, {
      Unit: [
        'Description=Gantry gateway watchdog: restarts the gateway when its /api/health fails',
        `After=${names.service}`,
      ],
      Service: [
        'Type=oneshot',
        `ExecStart=${execLine([...target.command, 'gateway', 'watchdog', '--once', ...target.args])}`,
        ...common,
      ],
    }),
    [names.watchdogTimer]: unit(header, {
      Unit: ['Description=Run the Gantry gateway watchdog every minute'],
      Timer: ['OnBootSec=2min', 'OnUnitActiveSec=1min', 'AccuracySec=5s', `Unit=${names.watchdogService}`],
      Install: ['WantedBy=timers.target'],
    }),
  };
}

const networkLines = ['After=network-online.target', 'Wants=network-online.target'];

function serviceLines(target: ServiceTarget): string[] {
  const environment = {
    ...target.environment,
    GANTRY_SERVICE_MANAGER: managerName(target),
    // The daemon runs as a service: it leaves its log to the manager and `gateway restart` to the service.
    GANTRY_DAEMON_MODE: 'service',
  };
  return [
    ...(target.system ? [`User=${target.user.name}`] : []),
    `WorkingDirectory=${specifiers(target.user.home)}`,
    ...Object.entries(environment).map(([key, value]) => `Environment=${quote(`${key}=${value}`, false)}`),
    `EnvironmentFile=-${specifiers(join(target.configDir, 'service.env'))}`,
  ];
}

function unit(header: string, sections: Record<string, string[]>): string {
  const body = Object.entries(sections)
    .map(([name, lines]) => `[${name}]\n${lines.join('\n')}\n`)
    .join('\n');
  return `${header}\n${body}`;
}

/** A command line as systemd splits it: each word quoted when it needs to be, `%` and `$` escaped. */
function execLine(words: string[]): string {
  return words.map((word) => quote(word, true)).join(' ');
}

/** One word, in double quotes when it has more than plain characters. */
function quote(word: string, exec: boolean): string {
  // `$` starts a variable in a command line (only there); doubled, it stands for itself.
  const text = exec ? specifiers(word).replace(/\$/g, '$$$$') : specifiers(word);
  if (/^[\w@%+=:,./-]+$/.test(word)) return text;
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `%` starts a specifier in every unit setting; doubled, it stands for itself. */
function specifiers(text: string): string {
  return text.replace(/%/g, '%%');
}

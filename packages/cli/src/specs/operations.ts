/**
 * The operations commands (issue 14): `version`, `doctor`, and in the `gateway` and `hub` groups
 * `gateway|hub doctor`, `gateway|hub service ...` and `gateway watchdog`.
 * Options only; the code is in `commands/` and `service/`, loaded when a command runs.
 */
import { type Command, Option } from 'commander';
import { action, type Loader } from './options.ts';
import { doctorHelp, topCommand } from './top-level.ts';

const load = {
  version: () => import('../commands/version.ts'),
  doctor: () => import('../commands/doctor.ts'),
  service: () => import('../commands/service.ts'),
  watchdog: () => import('../commands/watchdog.ts'),
} satisfies Record<string, Loader>;

const gatewaySettings = (cmd: Command) =>
  cmd
    .option('--port <port>', "the gateway's local API port (default: config.toml, then 7421)")
    .option('--config <file>', 'settings file (default: config.toml in the config folder)');

/** `version` and `doctor`. */
export function operationsSpec(program: Command): void {
  topCommand(program, 'version')
    .option('--json', 'JSON output: { version, commit, node }')
    .action(action(load.version, 'version'));
  gatewaySettings(topCommand(program, 'doctor'))
    .option('--hub-port <port>', "the local hub's port (default 7420)")
    .option('--json', 'JSON output: { checks: [{ name, status, detail, fix }] }')
    .action(action(load.doctor, 'doctor'));
}

/** `gateway doctor`, `gateway service ...` and `gateway watchdog`. */
export function gatewayOperations(gateway: Command): void {
  gatewaySettings(gateway.command('doctor'))
    .description(`the gateway: ${doctorHelp}`)
    .option('--json', 'JSON output: { checks: [{ name, status, detail, fix }] }')
    .action(action(load.doctor, 'gatewayDoctor'));
  serviceCommands(gateway, 'gateway', gatewaySettings);
  gatewaySettings(gateway.command('watchdog'))
    .description(
      "check the gateway's /api/health and restart it when it is dead, not answering or hung (what the service's timer runs)",
    )
    .option('--once', 'one check (and at most one restart), then exit: 0 healthy or revived, 1 not')
    .option('--interval <duration>', 'without --once: time between checks (default 60s)')
    .option(
      '--timeout <duration>',
      'how long /api/health may take before the gateway counts as hung (default 5s)',
    )
    .option('--json', 'one JSON object per check')
    .action(action(load.watchdog, 'watchdog'));
}

/** `hub doctor` and `hub service ...`. */
export function hubOperations(hub: Command): void {
  hub
    .command('doctor')
    .description(`the hub on this machine: ${doctorHelp}`)
    .option('--port <port>', "the hub's port (default 7420)")
    .option('--data-dir <dir>', 'where the hub keeps its files (hub start --data-dir)')
    .option('--json', 'JSON output: { checks: [{ name, status, detail, fix }] }')
    .action(action(load.doctor, 'hubDoctor'));
  serviceCommands(hub, 'hub', (cmd) =>
    cmd
      .option('--host <host>', 'address the hub listens on (default 127.0.0.1)')
      .option('--port <port>', 'port the hub listens on (default 7420)')
      .option('--data-dir <dir>', 'where the hub keeps its files'),
  );
}

function serviceCommands(
  parent: Command,
  kind: 'gateway' | 'hub',
  settings: (cmd: Command) => Command,
): void {
  const service = parent
    .command('service')
    .description(`run the ${kind} as a service: systemd on Linux, launchd on macOS`);
  const scope = (cmd: Command) =>
    cmd
      .option('--system', 'a system service (root) running as this user, instead of a user service')
      .addOption(
        new Option('--platform <platform>', 'linux or darwin (default: this machine)').choices([
          'linux',
          'darwin',
        ]),
      )
      .option('--json', 'JSON output');
  const bound = (fn: string) => action(load.service, fn);
  settings(
    scope(service.command('install'))
      .description(
        kind === 'gateway'
          ? 'write and enable the gateway service and its watchdog timer (a user unit or LaunchAgent by default)'
          : 'write and enable the hub service (a user unit or LaunchAgent by default)',
      )
      .option('--gantry-bin <path>', 'the gantry command the service runs (default: this one)')
      .option(
        '--dry-run',
        'print the files it would write (with --json: { files: [{ path, content }] }), touch nothing',
      ),
  ).action(bound(`${kind}Install`));
  scope(service.command('uninstall'))
    .description('stop and disable the service and remove its files')
    .option('--dry-run', 'print the files it would remove, touch nothing')
    .action(bound(`${kind}Uninstall`));
  for (const [verb, what] of [
    ['start', 'start the service'],
    ['stop', 'stop the service (a gateway stops its runs and hands them back)'],
    ['restart', 'restart the service'],
  ] as const)
    scope(service.command(verb))
      .description(what)
      .action(bound(`${kind}${capital(verb)}`));
  scope(service.command('status'))
    .description('whether the service is installed, enabled and running (exit 0 running, 3 not)')
    .action(bound(`${kind}Status`));
  scope(service.command('logs'))
    .description("the service's log (the journal, or launchd's log files)")
    .option('-n, --lines <n>', 'the last N lines', '100')
    .option('-f, --follow', 'keep printing new lines')
    .action(bound(`${kind}Logs`));
}

function capital(word: string): string {
  return `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`;
}

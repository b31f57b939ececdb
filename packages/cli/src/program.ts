/**
 * The `gantry` command tree: one spec per command group in `specs/` (options only); each command's
 * code lives in `commands/` and is loaded only when that command runs.
 */
import { Command, CommanderError } from 'commander';
import { version } from '@gantry/protocol/core';
import { operationsCommands } from './operations-program.ts';
import { exitCodes, reportError } from './output.ts';
import { hideSecretArguments } from './process-list.ts';
import { agentsSpec } from './specs/agents.ts';
import { authSpec } from './specs/auth.ts';
import { eventsSpec } from './specs/events.ts';
import { gatewaySpec } from './specs/gateway.ts';
import { hubSpec } from './specs/hub.ts';
import { messagesSpec } from './specs/messages.ts';
import { action } from './specs/options.ts';
import { peopleSpec } from './specs/people.ts';
import { sessionsSpec } from './specs/sessions.ts';
import { tasksSpec } from './specs/tasks.ts';
import { workSpec } from './specs/work.ts';

/** In the order `gantry --help` lists them. */
const specs = [
  hubSpec,
  authSpec,
  agentsSpec,
  workSpec,
  messagesSpec,
  gatewaySpec,
  tasksSpec,
  peopleSpec,
  eventsSpec,
  sessionsSpec,
];

function buildProgram(): Command {
  const program = new Command('gantry')
    .description('Gantry: bring AI coding agents online — dispatch work to agents on your machines')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const spec of specs) spec(program);
  operationsCommands(
    program,
    { gateway: commandOf(program, 'gateway'), hub: commandOf(program, 'hub') },
    action,
  );
  return program;
}

function commandOf(program: Command, name: string): Command {
  const command = program.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${name}`);
  return command;
}

export async function run(argv: string[]): Promise<void> {
  hideSecretArguments(argv);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      const quiet = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
      process.exitCode = quiet ? exitCodes.ok : exitCodes.usage;
      if (err.code === 'commander.executeSubCommandAsync') process.exitCode = exitCodes.usage;
    } else {
      process.exitCode = reportError(err, false);
    }
  }
}

/**
 * The `gantry` command tree: one spec per command group in `specs/` (options only); each command's
 * code lives in `commands/` and is loaded only when that command runs. A command builds only its
 * own group's spec; the whole tree is built when no known command is named (its help, an error).
 */
import { Command, CommanderError } from 'commander';
import { version } from '@gantry/protocol/core';
import { exitCodes, reportError } from './output.ts';
import { moveLeadingOptions } from './leading-options.ts';
import { refuseOptionsAsValues } from './option-values.ts';
import { hideSecretArguments } from './process-list.ts';
import { agentsSpec } from './specs/agents.ts';
import { authSpec } from './specs/auth.ts';
import { eventsSpec } from './specs/events.ts';
import { gatewaySpec } from './specs/gateway.ts';
import { hubSpec } from './specs/hub.ts';
import { messagesSpec } from './specs/messages.ts';
import { operationsSpec } from './specs/operations.ts';
import { peopleSpec } from './specs/people.ts';
import { sessionsSpec } from './specs/sessions.ts';
import { tasksSpec } from './specs/tasks.ts';
import { groupOf, programDescription, topCommands, type Group } from './specs/top-level.ts';
import { workSpec } from './specs/work.ts';

const specs: Record<Group, (program: Command) => void> = {
  hub: hubSpec,
  auth: authSpec,
  agents: agentsSpec,
  work: workSpec,
  messages: messagesSpec,
  gateway: gatewaySpec,
  tasks: tasksSpec,
  people: peopleSpec,
  events: eventsSpec,
  sessions: sessionsSpec,
  operations: operationsSpec,
};

/**
 * The program for `args` (the arguments after `gantry`): `gantry agents list` and
 * `gantry help agents` build the `agents` group alone; anything else builds every group.
 */
export function buildProgram(args: readonly string[]): Command {
  const program = new Command('gantry')
    .description(programDescription)
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const group = groupOf(args[0] === 'help' ? args[1] : args[0]);
  if (group) specs[group](program);
  else for (const g of new Set(topCommands.map((c) => c.group))) specs[g](program);
  // Commander lists commands as they were added; the groups add theirs in `topCommands` order.
  refuseOptionsAsValues(program);
  return program;
}

export async function run(given: string[]): Promise<void> {
  hideSecretArguments(given);
  const argv = [...given.slice(0, 2), ...moveLeadingOptions(given.slice(2))];
  const program = buildProgram(argv.slice(2));
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

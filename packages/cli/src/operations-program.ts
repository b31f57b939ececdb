/**
 * The operations commands (issue 14): `version`. Options only; the code is in `commands/`,
 * loaded when a command runs.
 */
import type { Command } from 'commander';

type Loader = () => Promise<Record<string, unknown>>;
type Action = (loader: Loader, fn: string) => (...args: unknown[]) => Promise<void>;

const load = {
  version: () => import('./commands/version.ts'),
} satisfies Record<string, Loader>;

export function operationsCommands(
  program: Command,
  _parents: { gateway: Command; hub: Command },
  action: Action,
): void {
  program
    .command('version')
    .description('the version, the commit it was built from, and the Node that runs it')
    .option('--json', 'JSON output: { version, commit, node }')
    .action(action(load.version, 'version'));
}

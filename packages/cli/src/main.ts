/**
 * Entry point. `--version` answers before anything else loads, and `--help` (or `help`) loads only
 * the list of top-level commands, so both cost about as much as starting Node; every command's code
 * is loaded only when that command runs.
 */
import { version } from '@gantry/protocol/version';

const args = process.argv.slice(2);
const only = args.length === 1 ? args[0] : undefined;
if (only === '--version' || only === '-V') {
  process.stdout.write(`${version}\n`);
} else if (only === '--help' || only === '-h' || only === 'help') {
  const { topHelp } = await import('./top-help.ts');
  process.stdout.write(topHelp(process.stdout.isTTY ? process.stdout.columns : undefined));
} else {
  const { run } = await import('./program.ts');
  await run(process.argv);
}

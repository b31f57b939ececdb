/**
 * Entry point. `--version` answers before anything else loads, so it costs about as much as
 * starting Node; every command's code is loaded only when that command runs.
 */
import { version } from '@gantry/protocol/version';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  const { run } = await import('./program.ts');
  await run(process.argv);
}

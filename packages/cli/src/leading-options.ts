/**
 * `gantry --hub URL assign ...` and `gantry --json whoami`: the options most commands share, given
 * before the command instead of after it, as with git or kubectl. They are moved to after the
 * command's words (before any `--`), where commander reads them as the command's own; a command that
 * does not take one still says so (`unknown option`).
 */
const withValue = new Set(['--hub', '--token', '--workspace']);
const flags = new Set(['--json']);

export function moveLeadingOptions(args: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i] ?? '';
    const name = arg.split('=', 1)[0] ?? '';
    if (flags.has(arg) || (withValue.has(name) && arg.includes('='))) {
      leading.push(arg);
      i += 1;
    } else if (withValue.has(arg) && i + 1 < args.length) {
      leading.push(arg, args[i + 1] ?? '');
      i += 2;
    } else break;
  }
  const rest = args.slice(i);
  // Nothing before the command, or nothing after the options: as given (commander explains).
  if (leading.length === 0 || rest.length === 0 || rest[0]?.startsWith('-')) return [...args];
  const end = rest.indexOf('--');
  return end === -1 ? [...rest, ...leading] : [...rest.slice(0, end), ...leading, ...rest.slice(end)];
}

/**
 * `gantry inbox --wait --timeout 2s`: an option that needs a value takes the next word, here another
 * option, and commander would then complain about the `2s` left over. An option whose value is a
 * name, a number, a path or a duration refuses a value that is itself an option (`--word`) and says
 * which option lacks its value. Options of free text (`--body <text>`, `--provider-arg <arg>`, ...)
 * take any value.
 */
import { InvalidArgumentError, type Command } from 'commander';

const freeText = new Set(['<text>', '<title>', '<arg>', '<key>', '<prefix>']);

export function refuseOptionsAsValues(command: Command): void {
  for (const option of command.options) {
    const placeholder = /<[a-z-]+>/.exec(option.flags)?.[0];
    if (!option.required || option.variadic || !placeholder || freeText.has(placeholder)) continue;
    const parse = option.parseArg;
    option.argParser((value: string, previous: unknown) => {
      if (/^--[a-z]/i.test(value))
        throw new InvalidArgumentError(`It is an option, not a value: give ${option.long} its value first.`);
      return parse ? parse(value, previous) : value;
    });
  }
  for (const sub of command.commands) refuseOptionsAsValues(sub);
}

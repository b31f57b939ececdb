/**
 * `gantry --help` without commander: the top-level commands from `specs/top-level.ts`, laid out as
 * commander lays out a program's help (test/help.test.ts holds the two equal), so the most common
 * first command costs about as much as starting Node.
 */
import { programDescription, topCommands } from './specs/top-level.ts';

const indent = 2;
const spacer = 2;
/** Below this many columns for a description commander does not wrap. */
const minWidthToWrap = 40;

export function topHelp(width = 80): string {
  const items: [string, string][] = [
    ['-V, --version', 'output the version number'],
    ['-h, --help', 'display help for command'],
  ];
  const commands: [string, string][] = topCommands.map((c) => [
    [c.name, c.options ? '[options]' : '', c.args ?? ''].filter(Boolean).join(' '),
    c.description,
  ]);
  commands.push(['help [command]', 'display help for command']);
  const termWidth = Math.max(...[...items, ...commands].map(([term]) => term.length));
  const item = ([term, text]: [string, string]) => formatItem(term, termWidth, text, width);
  return [
    'Usage: gantry [options] [command]',
    '',
    wrap(programDescription, width),
    '',
    'Options:',
    ...items.map(item),
    '',
    'Commands:',
    ...commands.map(item),
    '',
  ].join('\n');
}

function formatItem(term: string, termWidth: number, text: string, width: number): string {
  const remaining = width - termWidth - spacer - indent;
  const body =
    remaining < minWidthToWrap
      ? text
      : wrap(text, remaining).replace(/\n/g, `\n${' '.repeat(termWidth + spacer)}`);
  const lead = ' '.repeat(indent);
  return `${lead}${term.padEnd(termWidth)}${' '.repeat(spacer)}${body.replace(/\n/g, `\n${lead}`)}`;
}

/** Words to lines of at most `width` columns, breaking only at spaces. */
function wrap(text: string, width: number): string {
  if (width < minWidthToWrap) return text;
  const chunks = text.match(/\s*\S+/g) ?? [];
  const lines: string[] = [];
  let line = chunks.shift() ?? '';
  for (const chunk of chunks) {
    if (line.length + chunk.length <= width) line += chunk;
    else {
      lines.push(line);
      line = chunk.trimStart();
    }
  }
  lines.push(line);
  return lines.join('\n');
}

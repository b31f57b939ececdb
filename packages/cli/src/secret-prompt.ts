/** Reads a secret: from a terminal without echo, or the first line of piped standard input. */
import { GantryError } from '@gantry/protocol/core';

export async function readSecret(
  question: string,
  missing = 'no token given: pass --token or pipe it on standard input',
): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    const line = text.split(/\r?\n/)[0]?.trim() ?? '';
    if (!line) throw new GantryError('invalid_request', missing);
    return line;
  }
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            return resolve(value.trim());
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            return reject(new GantryError('invalid_request', 'cancelled'));
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

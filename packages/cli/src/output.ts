/**
 * How the CLI speaks: JSON for machines with `--json`, text for people, and for errors a clear
 * line and an exit code, never a stack trace (unless GANTRY_DEBUG is set).
 */
import { GantryError, type ErrorCode } from '@gantry/protocol/core';

export const exitCodes = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  unreachable: 5,
  /** A wait that ran out (as `timeout(1)` does). */
  waitTimeout: 124,
  interrupted: 130,
} as const;

const byCode: Partial<Record<ErrorCode, number>> = {
  invalid_request: exitCodes.usage,
  not_found: exitCodes.notFound,
  unauthorized: exitCodes.auth,
  forbidden: exitCodes.auth,
  unavailable: exitCodes.unreachable,
  timeout: exitCodes.waitTimeout,
};

/** An error that ends the command with a given exit code and message. */
export class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    readonly json?: unknown,
  ) {
    super(message);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A JSON array written page by page as the pages come, laid out as `printJson` lays out the whole. */
export async function printJsonArray(pages: AsyncIterable<readonly unknown[]>): Promise<void> {
  let first = true;
  for await (const page of pages) {
    const items = page.map((item) => `  ${JSON.stringify(item, null, 2).replaceAll('\n', '\n  ')}`);
    process.stdout.write(`${first ? '[\n' : ',\n'}${items.join(',\n')}`);
    first = false;
  }
  process.stdout.write(first ? '[]\n' : '\n]\n');
}

/** One JSON object on one line: what a foreground service prints when it is ready. */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Prints an error the way the mode asks and returns the exit code. */
export function reportError(err: unknown, json: boolean): number {
  if (err instanceof ExitError) {
    if (json && err.json !== undefined) printJson(err.json);
    if (err.message) process.stderr.write(`gantry: ${err.message}\n`);
    return err.exitCode;
  }
  const error =
    err instanceof GantryError
      ? err
      : new GantryError('internal', `internal error: ${(err as Error)?.message ?? String(err)}`);
  if (process.env.GANTRY_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  if (json) printJson(error.toWire());
  else process.stderr.write(`gantry: ${error.message}\n`);
  return byCode[error.code] ?? exitCodes.failure;
}

/** Columns for people: pads every column but the last. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '))
    .join('\n');
}

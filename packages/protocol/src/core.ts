/**
 * `@gantry/protocol/core`: the part of the contract that needs no zod, for code that runs before
 * any schema is needed (the CLI's command tree and its error output). The main entry exports all of it too.
 */
export { version } from './version.ts';
export * from './gantry-error.ts';
export * from './failures.ts';
export * from './activity-filter.ts';
export * from './task-vocabulary.ts';
export * from './vocabulary.ts';

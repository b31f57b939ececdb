/**
 * `@gantry/protocol/node`: the local files the gateway, the hub and the CLI share, for Node only
 * (the main entry stays browser-safe) and without zod at load, so the CLI's commands that only need
 * a path or a credential file never load the gateway package.
 */
export { gantryPaths, type GantryPaths } from './paths.ts';
export * from './private-files.ts';
export { readJsonFile, writeSecretFile, writeSecretJson } from './json-files.ts';
export { localToken } from './local-token.ts';
export { processAlive } from './processes.ts';

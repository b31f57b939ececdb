/** `gantry version`: the version, the commit it was built from, and the Node that runs it. */
import { commit, version as gantryVersion } from '@gantry/protocol/version';
import { printJson, printLine } from '../output.ts';

export function version(flags: { json?: boolean }): Promise<void> {
  const info = { version: gantryVersion, commit, node: process.version };
  if (flags.json) printJson(info);
  else printLine(`gantry ${info.version} (commit ${info.commit}) on Node ${info.node}`);
  return Promise.resolve();
}

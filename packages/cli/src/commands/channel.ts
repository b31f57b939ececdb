/**
 * `gantry channel setup NAME --workdir DIR`: the `.mcp.json` a Claude Code session in DIR needs
 * to use `gantry mcp` as the folder's pass-through agent. No token goes in it: `gantry mcp` run
 * in the folder reaches the hub through the local gateway, which holds the agent's key.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findFolderConfig } from '../folder-config.ts';
import { ExitError, exitCodes, printJson, printLine } from '../output.ts';

export async function setup(name: string, options: { workdir?: string; json?: boolean }): Promise<void> {
  const root = resolve(options.workdir ?? process.cwd());
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new ExitError(exitCodes.usage, `${root} is not a folder`);
  const folder = findFolderConfig(root);
  if (!folder) {
    throw new ExitError(
      exitCodes.notFound,
      `${root} is not a registered folder: run \`gantry local init ${name} --workdir ${root}\` first`,
    );
  }
  if (folder.agent !== name) {
    throw new ExitError(
      exitCodes.usage,
      `${folder.root} speaks for agent '${folder.agent}', not '${name}': one folder speaks for one agent`,
    );
  }
  const file = join(root, '.mcp.json');
  const config = existsSync(file) ? readConfig(file) : {};
  const servers = (config.mcpServers ?? {}) as Record<string, unknown>;
  servers.gantry = { command: gantryScript(), args: ['mcp'], cwd: root };
  writeFileSync(file, `${JSON.stringify({ ...config, mcpServers: servers }, null, 2)}\n`);
  if (options.json) return printJson({ file, agent: name, workdir: root });
  printLine(`Wrote ${file}: Claude Code in ${root} uses \`gantry mcp\` as '${name}'.`);
}

function readConfig(file: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ExitError(exitCodes.failure, `${file} is not a JSON object: fix or remove it`);
}

/** This CLI's entry script (executable, `#!/usr/bin/env node`): the same `gantry`, whatever PATH holds. */
function gantryScript(): string {
  return resolve(process.argv[1] ?? 'gantry');
}

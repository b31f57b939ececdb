/**
 * `gantry dashboard`: a one-time sign-in link (valid 60 s) printed and, where this machine has a
 * browser to show it, opened. Having no browser is normal (a server, SSH): never an error.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { signinLinkSchema } from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { printJson, printLine } from '../output.ts';

export async function dashboard(options: HubOptions & { json?: boolean; open?: boolean }): Promise<void> {
  const link = await HubClient.from(options).request('POST', '/v1/web/links', signinLinkSchema, {});
  const opener = options.open === false ? undefined : browserOpener();
  const opened = opener ? openDetached(opener, link.url) : false;
  if (options.json) return printJson({ ...link, opened });
  const seconds = Math.max(1, Math.round((link.expiresAt - Date.now()) / 1000));
  printLine(`Sign in to the dashboard with this link (works once, for ${seconds} s):\n\n  ${link.url}\n`);
  if (opened) printLine('Opening it in your browser.');
}

/** `open` on macOS; `xdg-open` where a graphical session runs; otherwise none. */
export function browserOpener(env = process.env, platform = process.platform): string | undefined {
  if (platform === 'darwin') return onPath('open', env);
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return onPath('xdg-open', env);
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Starts the opener on its own: its failure or slowness is never the command's. */
function openDetached(opener: string, url: string): boolean {
  try {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

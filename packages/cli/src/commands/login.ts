/** `gantry login` and `gantry whoami`. */
import { meAnswer } from '@gantry/protocol/answers';
import { HubClient } from '../client.ts';
import { resolveHub, saveLogin, type HubOptions } from '../credentials.ts';
import { printJson, printLine } from '../output.ts';
import { readSecret } from '../secret-prompt.ts';

export async function login(options: HubOptions & { url: string; json?: boolean }): Promise<void> {
  const url = options.url.replace(/\/+$/, '');
  const token = options.token ?? process.env.GANTRY_TOKEN ?? (await readSecret(`Token for ${url}: `));
  const client = new HubClient({ url, urlSource: 'flag', token, tokenSource: 'flag' });
  const me = await client.request('GET', '/v1/me', meAnswer);
  const path = saveLogin({ url, token, principal: me.principal, workspace: me.workspace });
  if (options.json) return printJson({ url, ...me, file: path });
  printLine(
    `Logged in to ${url} as ${me.principal.name} (${me.principal.kind}) in workspace ${me.workspace.name}.`,
  );
  printLine(`Saved to ${path}.`);
}

export async function whoami(options: HubOptions & { json?: boolean }): Promise<void> {
  const hub = resolveHub(options);
  const me = await new HubClient(hub).request('GET', '/v1/me', meAnswer);
  if (options.json) {
    return printJson({ ...me, hub: { url: hub.url, source: hub.urlSource }, tokenSource: hub.tokenSource });
  }
  const role = me.principal.role ? `, ${me.principal.role}` : '';
  printLine(`${me.principal.name} (${me.principal.kind}${role}) in workspace ${me.workspace.name}`);
  printLine(`Hub ${hub.url} (from ${hub.urlSource}); token from ${hub.tokenSource}`);
}

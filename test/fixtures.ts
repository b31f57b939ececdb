/** A hub, agents and a gateway set up the way a user would, for the process tests. */
import type { Sandbox, Service } from './harness.ts';

export interface HubReady {
  url: string;
  ownerToken: string;
}

/** `gantry hub start` on port 0, and `gantry login` as the owner. */
export async function startHub(
  box: Sandbox,
  args: string[] = [],
): Promise<{ hub: Service; ready: HubReady }> {
  const hub = box.start(['hub', 'start', '--port', '0', '--json', ...args]);
  const ready = await hub.ready<HubReady>();
  const login = await box.run(['login', '--url', ready.url, '--token', ready.ownerToken]);
  if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
  return { hub, ready };
}

export async function createAgent(box: Sandbox, name: string): Promise<{ id: string; key: string }> {
  return box.json<{ id: string; key: string }>(['agents', 'create', name]);
}

/** A generic-provider script that speaks the structured event protocol. */
export const structuredScript = `
echo "working on: $1"
echo 'GANTRY_EVENT {"type":"status","message":"reading","progress":{"current":1,"total":2,"unit":"files"}}'
echo 'GANTRY_EVENT {"type":"tool_start","name":"grep","input":"TODO"}'
echo 'GANTRY_EVENT {"type":"tool_result","name":"grep","exitCode":0}'
echo 'GANTRY_EVENT {"type":"session","id":"conv-1"}'
echo "pwd=$PWD resume=\${GANTRY_RESUME_ID:-none} agent=$GANTRY_AGENT_NAME"
echo 'GANTRY_EVENT {"type":"result","text":"all done"}'
`;

/** `gantry gateway connect` for one agent key with a provider (and its binary). */
export function connectArgs(
  hubUrl: string,
  apiKey: string,
  provider: string,
  providerBin?: string,
): string[] {
  return [
    'gateway',
    'connect',
    '--server-url',
    hubUrl,
    '--provider',
    provider,
    ...(providerBin ? ['--provider-bin', providerBin] : []),
    '--api-key',
    apiKey,
  ];
}

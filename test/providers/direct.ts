/**
 * Runs a provider directly (no hub, no gateway) with a real process and a scratch workdir, and
 * collects its events: for the provider tests that check one provider's mapping of its CLI.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmitEvent } from '@gantry/protocol';
import { allowlistedEnv } from '../../packages/gateway/src/providers/environment.ts';
import type {
  PermissionRequest,
  Provider,
  RunOutcome,
} from '../../packages/gateway/src/providers/provider.ts';
import type { ProviderSettings } from '../../packages/gateway/src/providers/settings.ts';

export interface DirectRun {
  outcome: RunOutcome;
  events: { type: string; data: Record<string, unknown> }[];
  permissions: PermissionRequest[];
  pid: number | undefined;
}

export async function runDirect(
  provider: Provider,
  options: {
    prompt: string;
    workdir?: string;
    resumeId?: string;
    settings?: ProviderSettings;
    /** Extra environment (e.g. the fake server's URL and key). */
    env?: Record<string, string>;
    args?: string[];
    signal?: AbortSignal;
    /** How permission requests are answered (default: approved). */
    decide?: (request: PermissionRequest) => Promise<'approved' | 'denied'> | 'approved' | 'denied';
    onEvent?: (type: string, data: Record<string, unknown>) => void;
  },
): Promise<DirectRun> {
  const workdir = options.workdir ?? mkdtempSync(join(tmpdir(), 'gantry-provider-'));
  const events: DirectRun['events'] = [];
  const permissions: PermissionRequest[] = [];
  let pid: number | undefined;
  const emit: EmitEvent = (type, data) => {
    events.push({ type, data });
    options.onEvent?.(type, data);
  };
  const outcome = await provider.run(
    {
      assignment: {
        id: 'asg_direct',
        attempt: 1,
        agentId: 'agt_direct',
        agentName: 'direct',
        prompt: options.prompt,
        sessionKey: 'default',
        mode: options.resumeId ? 'continue' : 'new',
        resumeFallback: 'fail',
        timeoutMs: 60_000,
      },
      workdir,
      env: {
        ...allowlistedEnv(provider.envFamilies),
        ...options.env,
        GANTRY_RUN_ID: `direct-${process.pid}-${Date.now()}`,
      },
      args: options.args ?? [],
      settings: options.settings ?? {},
      ...(options.resumeId ? { resumeId: options.resumeId } : {}),
      signal: options.signal ?? new AbortController().signal,
      emit,
      requestPermission: async (request) => {
        permissions.push(request);
        return options.decide ? options.decide(request) : 'approved';
      },
      room: () => undefined,
    },
    (p) => (pid = p),
  );
  return { outcome, events, permissions, pid };
}

/** The data of a run's events of one type, in order. */
export function eventsOf(run: DirectRun, type: string): Record<string, unknown>[] {
  return run.events.filter((e) => e.type === type).map((e) => e.data);
}

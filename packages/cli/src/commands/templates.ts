/** `gantry templates` and `gantry agents add|show|test|remove`: agents from templates, end to end. */
import { resolve } from 'node:path';
import * as z from 'zod';
import {
  addedAgentSchema,
  agentReachSchema,
  agentSchema,
  assignmentSchema,
  gatewaySchema,
  messageSchema,
  pingResultSchema,
  removedAgentSchema,
  templateSchema,
  type AddAgent,
} from '@gantry/protocol';
import { HubClient } from '../client.ts';
import type { HubOptions } from '../credentials.ts';
import { parseDuration } from '../duration.ts';
import { ExitError, exitCodes, printJson, printLine, table } from '../output.ts';
import { binFromFlags, rejectMixedBins, settingsFromFlags, type ProviderFlags } from '../provider-flags.ts';
import { awaitEnd } from './assign.ts';

type Json = { json?: boolean };

export async function templates(options: HubOptions & Json): Promise<void> {
  const list = await HubClient.from(options).request('GET', '/v1/templates', z.array(templateSchema));
  if (options.json) return printJson(list);
  for (const t of list) {
    printLine(`${t.name}  (${t.kind}${t.provider ? `, provider ${t.provider}` : ''})`);
    printLine(`  ${t.summary}`);
    printLine(`  needs: ${t.needs.join('; ')}`);
    if (t.flags.length > 0) printLine(`  flags: ${t.flags.join(' ')}`);
  }
  printLine();
  printLine('Add one with: gantry agents add NAME --template TEMPLATE [--gateway ID] [flags]');
}

export async function add(
  name: string,
  options: HubOptions & Json & ProviderFlags & { template: string; gateway?: string; workdir?: string },
): Promise<void> {
  const client = HubClient.from(options);
  const list = await client.request('GET', '/v1/templates', z.array(templateSchema));
  const template = list.find((t) => t.name === options.template);
  if (!template) {
    throw new ExitError(
      exitCodes.usage,
      `no template '${options.template}' (templates: ${list.map((t) => t.name).join(', ')})`,
    );
  }
  const provider = template.provider ?? '';
  rejectMixedBins(provider, options);
  const providerBin = template.provider ? binFromFlags(provider, options) : options.providerBin;
  const body: AddAgent = {
    name,
    template: template.name,
    ...(options.gateway ? { gateway: options.gateway } : {}),
    ...(options.workdir ? { workdir: resolve(options.workdir) } : {}),
    ...(providerBin ? { providerBin: resolve(providerBin) } : {}),
    settings: settingsFromFlags(options),
  };
  const added = await client.request('POST', '/v1/agents/add', addedAgentSchema, body, { timeoutMs: 30_000 });
  if (options.json) return printJson(added);
  const { agent } = added;
  if (added.gateway && added.binding) {
    printLine(
      `Added ${agent.name} (${agent.id}) from template ${added.template}: gateway ${added.gateway.name} serves it now`,
    );
    printLine(
      `  provider ${added.binding.provider}, workdir ${added.binding.workdir ?? "its own folder under the gateway's workspace root"}`,
    );
    printLine(`Its key went to the gateway over its connection. Try it: gantry agents test ${agent.name}`);
  } else if (added.key) {
    printLine(`Added service account ${agent.name} (${agent.id}): it sends messages, never runs anything.`);
    printLine(`Its key, shown only this once (for a script's GANTRY_TOKEN):\n\n  ${added.key}\n`);
  } else {
    printLine(`Added pass-through agent ${agent.name} (${agent.id}).`);
    printLine(`Register the folder its session runs in with: gantry local init ${agent.name}`);
  }
}

export async function show(name: string, options: HubOptions & Json): Promise<void> {
  const client = HubClient.from(options);
  const agent = await client.request('GET', `/v1/agents/${encodeURIComponent(name)}`, agentSchema);
  // Gateways (with each one's provider for this agent) are for users; an agent key sees less.
  const gateways = await client.request('GET', '/v1/gateways', z.array(gatewaySchema)).catch(() => []);
  const reach = await client
    .request('GET', '/v1/agents/reachability', z.array(agentReachSchema))
    .then((all) => all.find((r) => r.agent.id === agent.id))
    .catch(() => undefined);
  const detail = {
    ...agent,
    template: agent.template ?? null,
    gateways: agent.gateways.map((g) => ({
      ...g,
      provider:
        gateways.find((gw) => gw.id === g.id)?.agents.find((a) => a.id === agent.id)?.provider ?? null,
    })),
    reachability: reach ? { state: reach.reachability, via: reach.via, reason: reach.reason } : null,
  };
  if (options.json) return printJson(detail);
  printLine(`${agent.name} (${agent.id})`);
  printLine(`  kind        ${agent.kind}`);
  printLine(`  template    ${detail.template ?? '-'}`);
  printLine(`  state       ${agent.paused ? 'paused' : 'active'}`);
  if (detail.reachability) {
    printLine(`  reachable   ${detail.reachability.state} (${detail.reachability.reason})`);
  }
  if (detail.gateways.length === 0) return printLine('  gateways    -');
  printLine(
    table([
      ['  GATEWAY', 'ID', 'PROVIDER', 'CONNECTED'],
      ...detail.gateways.map((g) => [`  ${g.name}`, g.id, g.provider ?? '-', g.connected ? 'yes' : 'no']),
    ]),
  );
}

/** The prompt of a managed agent's test: the echo agent answers `echo: ...`, others reply as told. */
const testPrompt = 'gantry test: reply ok';

export async function test(name: string, options: HubOptions & Json & { timeout?: string }): Promise<void> {
  const client = HubClient.from(options);
  const agent = await client.request('GET', `/v1/agents/${encodeURIComponent(name)}`, agentSchema);
  const waitMs = options.timeout ? parseDuration(options.timeout, '--timeout') : 60_000;
  const started = performance.now();
  if (agent.kind === 'managed') {
    // Nothing would run it (no gateway connected, or paused): say so now, not after the wait.
    const reach = await client.request(
      'POST',
      `/v1/agents/${encodeURIComponent(agent.id)}/ping`,
      pingResultSchema,
      { timeoutMs: 5_000 },
    );
    if (reach.reachability !== 'live') {
      const result = {
        agent: { id: agent.id, name: agent.name, kind: agent.kind },
        test: 'assignment' as const,
        reachability: reach.reachability,
        reason: reach.reason,
        ok: false,
      };
      if (options.json) printJson(result);
      else printLine(`${agent.name}: ${reach.reachability} (${reach.reason}); nothing was sent`);
      throw new ExitError(exitCodes.failure, '');
    }
    const created = await client.request('POST', '/v1/assignments', assignmentSchema, {
      agent: agent.id,
      prompt: testPrompt,
      timeoutMs: waitMs,
    });
    const final = await awaitEnd(client, created, { follow: false, json: true, waitMs });
    const result = {
      agent: { id: agent.id, name: agent.name, kind: agent.kind },
      test: 'assignment' as const,
      assignmentId: final.id,
      outcome: final.state,
      output: final.result?.output ?? null,
      error: final.error ?? null,
      roundTripMs: Math.round(performance.now() - started),
      ok: final.state === 'succeeded',
    };
    if (options.json) printJson(result);
    else if (result.ok)
      printLine(`${agent.name}: ok in ${result.roundTripMs} ms (${final.id}): ${result.output}`);
    else {
      const why = final.error ? `${final.error.code}: ${final.error.message}` : final.state;
      printLine(`${agent.name}: ${final.state} after ${result.roundTripMs} ms (${final.id}): ${why}`);
    }
    if (!result.ok) throw new ExitError(exitCodes.failure, '');
    return;
  }
  // A pass-through agent or a service account runs nothing: a message tells it, the hub says whether it can hear.
  const message = await client.request('POST', '/v1/messages', messageSchema, {
    body: `gantry test: @${agent.name} are you there?`,
  });
  const ping = await client.request(
    'POST',
    `/v1/agents/${encodeURIComponent(agent.id)}/ping`,
    pingResultSchema,
    {
      timeoutMs: 5_000,
    },
  );
  const result = {
    agent: { id: agent.id, name: agent.name, kind: agent.kind },
    test: 'message' as const,
    messageId: message.id,
    reachability: ping.reachability,
    reason: ping.reason,
    reachable: ping.reachability !== 'unreachable',
    roundTripMs: Math.round(performance.now() - started),
    ok: agent.kind === 'service' || ping.reachability !== 'unreachable',
  };
  if (options.json) printJson(result);
  else {
    printLine(
      `${agent.name} (${agent.kind}): message ${message.id} sent; ${ping.reachability} (${ping.reason}), ${result.roundTripMs} ms`,
    );
  }
  if (!result.ok) throw new ExitError(exitCodes.failure, '');
}

export async function remove(name: string, options: HubOptions & Json): Promise<void> {
  const result = await HubClient.from(options).request(
    'DELETE',
    `/v1/agents/${encodeURIComponent(name)}`,
    removedAgentSchema,
  );
  if (options.json) return printJson(result);
  const from = result.detachedFrom.map(
    (g) => `${g.name}${g.told ? '' : ' (offline: its copy of the key no longer works)'}`,
  );
  printLine(
    `${result.outcome === 'deleted' ? 'Deleted' : 'Removed'} ${result.agent.name}: ${result.revokedKeys} key(s) revoked, ` +
      `${result.cancelledAssignments} assignment(s) cancelled${from.length > 0 ? `, detached from ${from.join(', ')}` : ''}.`,
  );
  if (result.outcome === 'removed')
    printLine('Its history (messages, tasks, runs) is kept; its name stays taken.');
}

/**
 * Agents from templates (`gantry agents add`) and their removal. A managed template's agent is
 * bound on a connected gateway: the hub mints its key and hands it, with the binding, to that
 * gateway over its WebSocket (`attach`), so no key is ever printed or copied by hand; the gateway
 * answers `attached` once it serves the agent. A gateway connected to another hub of the system
 * gets it through that hub (gateway-relay.ts). Removal revokes its keys and tells its gateways.
 */
import { randomBytes } from 'node:crypto';
import {
  findTemplate,
  GantryError,
  isTerminal,
  templateNames,
  templates,
  templateSettingKeys,
  type AddAgent,
  type AddedAgent,
  type Agent,
  type AssignmentState,
  type GatewayFrameOf,
  type Logger,
  type RemovedAgent,
  type Template,
} from '@gantry/protocol';
import { issueToken } from '../auth/authenticate.ts';
import type { Actor } from './actor.ts';
import { requireRole } from '../auth/roles.ts';
import type { GatewayLink, Links } from '../dispatch/links.ts';
import type { Store } from '../store/store.ts';
import { agentViews, findAgentOrThrow } from './agents.ts';
import type { Assignments } from './assignments.ts';
import type { Devices } from './devices.ts';
import type { GatewayPort } from './gateway-port.ts';
import type { AttachAnswer, GatewayRelay } from './gateway-relay.ts';

/** How long `agents add` waits for the gateway to confirm it serves the new agent. */
const attachTimeoutMs = 10_000;

interface Pending {
  gatewayId: string;
  resolve: (answer: AttachResult) => void;
}

interface AttachResult {
  ok: boolean;
  error?: string;
  workdir?: string;
}

/** The gateway an agent is added on: its socket here, or (no `link`) on another hub of the system. */
interface Target {
  gatewayId: string;
  name: string;
  link?: GatewayLink;
}

/** Never settles: a race entry for what cannot fail. */
const never = new Promise<never>(() => undefined);

export class AgentTemplates {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly store: Store,
    private readonly links: Links,
    private readonly assignments: Assignments,
    private readonly log: Logger,
    private readonly devices: () => Devices,
    /** Where a gateway is told, on this hub or (relayed) another of the system. */
    private readonly gateways: GatewayPort = links,
    /** How an `attach` reaches a gateway connected to another hub (absent: this hub's only). */
    private readonly relay?: GatewayRelay,
  ) {
    relay?.onAnswer((answer) => this.resolve(answer.gatewayId, answer));
  }

  list(): Template[] {
    return templates;
  }

  async add(caller: Actor, input: AddAgent): Promise<AddedAgent> {
    requireRole(caller, 'admin', 'add agents');
    const template = findTemplate(input.template);
    if (!template) {
      throw new GantryError(
        'invalid_request',
        `no template '${input.template}' (templates: ${templateNames.join(', ')}; see \`gantry templates\`)`,
      );
    }
    checkFlags(template, input);
    if (await this.store.agents.find(caller.workspaceId, input.name)) {
      throw new GantryError('conflict', `an agent named '${input.name}' already exists`);
    }
    if (await this.store.agents.findRemoved(caller.workspaceId, input.name)) {
      throw new GantryError(
        'conflict',
        `an agent named '${input.name}' was removed and its history is kept: pick another name`,
      );
    }
    const target =
      template.kind === 'managed' ? await this.connectedGateway(caller, input.gateway) : undefined;
    const row = await this.store.agents.create(
      caller.workspaceId,
      input.name,
      template.kind,
      Date.now(),
      template.name,
    );
    let key =
      template.kind === 'pass_through'
        ? undefined
        : await issueToken(this.store, 'agent', row.id, caller.workspaceId);
    const binding =
      target && key && template.provider
        ? {
            provider: template.provider,
            ...(input.workdir ? { workdir: input.workdir } : {}),
            ...(input.providerBin ? { providerBin: input.providerBin } : {}),
            settings: input.settings,
          }
        : undefined;
    let workdir = input.workdir ?? null;
    if (target && key && binding) {
      try {
        workdir = (await this.attach(target, { id: row.id, name: row.name }, key, binding)) ?? workdir;
        await this.trust(caller, target.gatewayId, row.id);
      } catch (err) {
        await this.store.gateways.detach(target.gatewayId, row.id);
        if (target.link) this.links.unserve(target.link, row.id);
        await this.store.agents.delete(row.id);
        throw err;
      }
      key = undefined; // it lives on the gateway only
    }
    await this.store.audit.record({
      workspaceId: caller.workspaceId,
      actor: `user:${caller.id}`,
      action: 'agent.added',
      subject: row.id,
      data: {
        name: row.name,
        template: template.name,
        kind: template.kind,
        ...(target
          ? { gateway: target.gatewayId, provider: template.provider, workdir: input.workdir ?? null }
          : {}),
      },
    });
    const agent = (await agentViews(this.store, [row]))[0] as Agent;
    return {
      agent,
      template: template.name,
      gateway: target ? { id: target.gatewayId, name: target.name } : null,
      binding: binding
        ? {
            provider: binding.provider,
            workdir,
            providerBin: input.providerBin ?? null,
          }
        : null,
      ...(template.kind === 'service' && key ? { key } : {}),
    };
  }

  /** The gateway's answer to an `attach` it was sent on this link (asked here, or by another hub). */
  attached(link: GatewayLink, frame: GatewayFrameOf<'attached'>): void {
    if (!this.resolve(link.gatewayId, frame)) this.relay?.answer(link.gatewayId, frame);
  }

  /** Settles the `agents add` waiting here for this answer; false when none is. */
  private resolve(gatewayId: string, answer: Omit<AttachAnswer, 'gatewayId'>): boolean {
    const waiting = this.pending.get(answer.requestId);
    if (!waiting || waiting.gatewayId !== gatewayId) return false;
    this.pending.delete(answer.requestId);
    waiting.resolve({
      ok: answer.ok,
      ...(answer.error ? { error: answer.error } : {}),
      ...(answer.workdir ? { workdir: answer.workdir } : {}),
    });
    return true;
  }

  async remove(caller: Actor, ref: string): Promise<RemovedAgent> {
    requireRole(caller, 'admin', 'remove agents');
    const agent = await findAgentOrThrow(this.store, caller, ref);
    // Its work stops first, while its gateways still know the runs.
    let cancelled = 0;
    for (;;) {
      const rows = (
        await this.store.assignments.list(caller.workspaceId, { agentId: agent.id, limit: 1000 })
      ).filter((r) => !isTerminal(r.state as AssignmentState) && r.state !== 'cancelling');
      if (rows.length === 0) break;
      for (const row of rows) {
        const done = await this.assignments.cancel(caller, row.id).catch((err: unknown) => {
          if (err instanceof GantryError && err.code === 'conflict') return undefined; // it just ended
          throw err;
        });
        if (done) cancelled += 1;
      }
    }
    const revokedKeys = await this.store.tokens.revokeAllOf(agent.id);
    const detachedFrom: RemovedAgent['detachedFrom'] = [];
    for (const gateway of (await this.store.gateways.ofAgents([agent.id])).filter(
      (g) => g.agentId === agent.id,
    )) {
      await this.store.gateways.detach(gateway.id, agent.id);
      // Through the port: a gateway connected to another hub of the system is told by that hub.
      const told = this.links.isConnected(gateway.id) || Boolean(gateway.connected);
      this.gateways.send(gateway.id, { t: 'detach', agentId: agent.id });
      detachedFrom.push({ id: gateway.id, name: gateway.name, told });
    }
    const outcome = (await this.store.agents.referenced(agent.id)) ? 'removed' : 'deleted';
    if (outcome === 'removed') await this.store.agents.markRemoved(agent.id);
    else await this.store.agents.delete(agent.id);
    await this.store.audit.record({
      workspaceId: caller.workspaceId,
      actor: `user:${caller.id}`,
      action: 'agent.removed',
      subject: agent.id,
      data: { name: agent.name, outcome, revokedKeys, gateways: detachedFrom.map((g) => g.id), cancelled },
    });
    this.log.info('agent removed', { agent: agent.id, outcome });
    return {
      agent: { id: agent.id, name: agent.name },
      outcome,
      revokedKeys,
      detachedFrom,
      cancelledAssignments: cancelled,
    };
  }

  /**
   * The person who added the agent chose this gateway: its device is trusted for the agent (an
   * approval they decide at once), so a reconnect serves it without asking anyone again.
   */
  private async trust(caller: Actor, gatewayId: string, agentId: string): Promise<void> {
    const devices = this.devices();
    const gateway = await this.store.gateways.get(gatewayId);
    const agent = await this.store.agents.get(agentId);
    if (!gateway || !agent) return;
    const fp = devices.fingerprintOf(await devices.get(gatewayId), {});
    const grant = await devices.grant(gateway, agent, fp, true);
    if (grant.status === 'pending') await devices.decide(caller, grant.id, 'approved');
  }

  private async connectedGateway(caller: Actor, ref: string | undefined): Promise<Target> {
    if (!ref) {
      throw new GantryError(
        'invalid_request',
        'a managed template needs --gateway ID|NAME (see `gantry gateways list`)',
      );
    }
    const gateways = await this.store.gateways.list(caller.workspaceId);
    const matches = gateways.filter((g) => g.id === ref || g.name === ref);
    if (matches.length === 0) throw new GantryError('not_found', `no gateway named or with id '${ref}'`);
    if (matches.length > 1) {
      throw new GantryError('invalid_request', `several gateways are named '${ref}': give its id`);
    }
    const gateway = matches[0] as (typeof matches)[number];
    const link = this.links.get(gateway.id);
    if (link) return { gatewayId: gateway.id, name: gateway.name, link };
    // Connected to another hub of the system: the frame goes through it.
    if (this.relay && gateway.connected === 1) return { gatewayId: gateway.id, name: gateway.name };
    throw notConnected(gateway);
  }

  /** Hands the agent to the gateway; returns the folder it runs in there (an older gateway does not say). */
  private async attach(
    target: Target,
    agent: { id: string; name: string },
    key: string,
    binding: { provider: string; workdir?: string; providerBin?: string; settings: Record<string, unknown> },
  ): Promise<string | undefined> {
    const requestId = randomBytes(8).toString('hex');
    const { link } = target;
    /** The gateway got the frame (an answer says so too). */
    let handed = Boolean(link);
    const answer = new Promise<AttachResult>((resolve) => {
      this.pending.set(requestId, {
        gatewayId: target.gatewayId,
        resolve: (result) => {
          handed = true;
          resolve(result);
        },
      });
    });
    await this.store.gateways.attach(target.gatewayId, agent.id, binding.provider);
    const frame = { t: 'attach', requestId, agent, key, binding } as const;
    let nowhere: Promise<AttachResult>;
    if (link) {
      this.links.serve(link, agent.id, agent.name);
      link.send(frame);
      nowhere = never;
    } else {
      // Through the hub holding its socket; none taking it means it is connected nowhere now.
      nowhere = (this.relay as GatewayRelay).send(target.gatewayId, frame).then((sent) => {
        if (sent) handed = true;
        return handed ? never : { ok: false, error: 'not connected' };
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<AttachResult>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            ok: false,
            error: `no answer in ${attachTimeoutMs / 1000}s (is the gateway up to date?)`,
          }),
        attachTimeoutMs,
      );
    });
    const result = await Promise.race([answer, timeout, nowhere]).finally(() => {
      clearTimeout(timer);
      this.pending.delete(requestId);
    });
    if (!result.ok) {
      if (!handed) throw notConnected({ id: target.gatewayId, name: target.name });
      // The other hub serves it since it handed it on: it stops, and the gateway forgets the key.
      if (!link) this.gateways.send(target.gatewayId, { t: 'detach', agentId: agent.id });
      throw new GantryError(
        'unavailable',
        `gateway ${target.name} did not take agent ${agent.name}: ${result.error}`,
      );
    }
    return result.workdir;
  }
}

function notConnected(gateway: { id: string; name: string }): GantryError {
  return new GantryError(
    'unavailable',
    `gateway ${gateway.name} (${gateway.id}) is not connected: start it (gantry gateway start) and try again`,
  );
}

/** Refuses flags the template does not take, and asks for those it needs. */
function checkFlags(template: Template, input: AddAgent): void {
  const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  if (template.kind !== 'managed') {
    const given = [
      input.gateway ? '--gateway' : undefined,
      input.workdir ? '--workdir' : undefined,
      input.providerBin ? '--provider-bin' : undefined,
      ...Object.keys(input.settings).map(flag),
    ].filter((f) => f !== undefined);
    if (given.length > 0) {
      throw new GantryError(
        'invalid_request',
        `template ${template.name} makes a ${template.kind} agent that no gateway runs: it takes no ${given.join(', ')}`,
      );
    }
    return;
  }
  for (const key of Object.keys(input.settings)) {
    if (
      !(templateSettingKeys as readonly string[]).includes(key) ||
      !template.settings.includes(key as never)
    ) {
      throw new GantryError('invalid_request', `template ${template.name} takes no ${flag(key)}`);
    }
  }
  for (const key of template.required) {
    if (input.settings[key] === undefined) {
      throw new GantryError('invalid_request', `template ${template.name} needs ${flag(key)}`);
    }
  }
  if (input.providerBin && !template.bin) {
    throw new GantryError('invalid_request', `template ${template.name} takes no binary flag`);
  }
}

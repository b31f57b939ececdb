/**
 * Whether an agent can answer now, from what this hub sees: the gateways connected to it (each
 * link says which agents it serves) and the inbox waits open on it (`Presence`). Nothing is sent to
 * find out, so a handoff can ask before it decides to wait, instead of pinging the agent in chat.
 *
 * - `live`: a connected gateway serves it (and it is not paused), or it is waiting on its inbox.
 * - `queue-only`: its work waits until it comes back — a pass-through agent not waiting now, a
 *   managed agent whose gateways are offline, or one that is paused (mentions queue, not run).
 * - `unreachable`: nothing will take its work — a managed agent no gateway was ever connected for,
 *   or a service agent (a sender only, it reads no mail).
 *
 * Behind several hubs on one PostgreSQL, an inbox wait held by another hub is seen here (presence
 * travels on the bus: presence-sync.ts), and so is a gateway connected to another hub that is alive
 * (the store says which hub instance holds its socket: hub-instances.ts); only `ping` measures a
 * round trip, to gateways connected here.
 */
import type { AgentReach, PingResult } from '@gantry/protocol';
import type { Actor } from './actor.ts';
import type { GatewayLink, Links } from '../dispatch/links.ts';
import type { AgentRow, Store } from '../store/store.ts';
import { findAgentOrThrow } from './agents.ts';
import type { Presence } from './presence.ts';
import { iso } from './views.ts';

export const defaultPingTimeoutMs = 5_000;

export class Reachability {
  constructor(
    private readonly store: Store,
    private readonly links: Links,
    private readonly presence: Presence,
  ) {}

  /** Every agent of the caller's workspace, by name. */
  async all(caller: Actor): Promise<AgentReach[]> {
    const rows = await this.store.agents.list(caller.workspaceId);
    return this.of(rows.sort((a, b) => a.name.localeCompare(b.name)));
  }

  async one(agent: AgentRow): Promise<AgentReach> {
    return (await this.of([agent]))[0] as AgentReach;
  }

  /**
   * The hub's view plus, for an agent a connected gateway serves, the WebSocket ping/pong round
   * trip to that gateway (the fastest of them when several serve it).
   */
  async ping(caller: Actor, ref: string, timeoutMs = defaultPingTimeoutMs): Promise<PingResult> {
    const agent = await findAgentOrThrow(this.store, caller, ref);
    const view = await this.one(agent);
    const serving = this.serving(agent.id);
    if (serving.length === 0) return { ...view, rttMs: null, gateway: null, timedOut: false };
    const rtts = await Promise.all(serving.map((link) => link.ping(timeoutMs)));
    let best: { rtt: number; link: GatewayLink } | undefined;
    rtts.forEach((rtt, i) => {
      const link = serving[i];
      if (rtt !== undefined && link && (!best || rtt < best.rtt)) best = { rtt, link };
    });
    return {
      ...view,
      rttMs: best ? Math.round(best.rtt * 100) / 100 : null,
      gateway: (best?.link ?? serving[0])?.name ?? null,
      timedOut: best === undefined,
    };
  }

  private async of(rows: AgentRow[]): Promise<AgentReach[]> {
    const attached = await this.store.gateways.ofAgents(rows.map((r) => r.id));
    const unread = await this.store.mailbox.unreadCounts(rows.map((r) => r.id));
    // Gateways attached to an agent that do not serve it here: offline, connected to another hub
    // of the system, or held for an approval.
    const grants = await this.grants(attached.filter((g) => !this.links.get(g.id)?.agents.has(g.agentId)));
    const pending = new Map(
      [...grants].filter(([, grant]) => grant.status === 'pending').map(([key, grant]) => [key, grant.id]),
    );
    return rows.map((row): AgentReach => {
      const here = this.serving(row.id).map((l) => `gateway:${l.name}`);
      // Connected to another hub (its instance lives) and trusted for the agent: it serves it there.
      const elsewhere = attached
        .filter((g) => g.agentId === row.id && g.connected === 1 && !this.links.get(g.id))
        .filter((g) => [undefined, 'approved'].includes(grants.get(`${g.id}/${row.id}`)?.status))
        .map((g) => `gateway:${g.name}`);
      const connected = [...here, ...elsewhere];
      const away = attached.filter((g) => g.agentId === row.id && !connected.includes(`gateway:${g.name}`));
      // A device waiting for approval is not offline: a person's decision lets it serve.
      const approvals = away.flatMap((g) => pending.get(`${g.id}/${row.id}`) ?? []);
      const offline = away.map(
        (g) => `gateway:${g.name} (${pending.has(`${g.id}/${row.id}`) ? 'pending approval' : 'offline'})`,
      );
      const waiting = this.presence.waiting(row.id);
      const paused = row.paused === 1;
      const last = this.presence.lastInboxAt(row.id);
      const base = {
        agent: { id: row.id, name: row.name, kind: row.kind },
        paused,
        lastInboxAt: last === undefined ? null : iso(last),
        unread: unread.get(row.id) ?? 0,
      };
      if (waiting) {
        return {
          ...base,
          reachability: 'live',
          via: ['inbox', ...connected],
          reason: 'waiting on its inbox now',
        };
      }
      if (row.kind === 'managed') {
        if (connected.length > 0) {
          return paused
            ? {
                ...base,
                reachability: 'queue-only',
                via: connected,
                reason: 'paused: mentions queue until it is resumed',
              }
            : { ...base, reachability: 'live', via: connected, reason: 'a connected gateway serves it' };
        }
        if (offline.length > 0) {
          return {
            ...base,
            reachability: 'queue-only',
            via: offline,
            reason:
              approvals.length > 0
                ? `its gateway waits for approval ${approvals.join(', ')} (an owner or admin: gantry approvals approve ID): work queues for it`
                : 'its gateways are offline: work queues for them',
          };
        }
        return {
          ...base,
          reachability: 'unreachable',
          via: [],
          reason: 'no gateway serves it (gantry gateway connect --api-key <its key>)',
        };
      }
      if (row.kind === 'pass_through') {
        return {
          ...base,
          reachability: 'queue-only',
          via: ['mailbox'],
          reason: 'not waiting on its inbox now: mail waits in its mailbox',
        };
      }
      return { ...base, reachability: 'unreachable', via: [], reason: 'a service agent only sends' };
    });
  }

  /** The latest device grant of each agent on those gateways: `gateway/agent` -> grant. */
  private async grants(gateways: { id: string }[]): Promise<Map<string, { status: string; id: string }>> {
    const found = new Map<string, { status: string; id: string }>();
    for (const id of new Set(gateways.map((g) => g.id))) {
      for (const grant of await this.store.devices.grantsOfGateway(id))
        found.set(`${id}/${grant.agent_id}`, grant);
    }
    return found;
  }

  /** The connected gateways that serve this agent now. */
  private serving(agentId: string): GatewayLink[] {
    return [...this.links.serving(agentId)];
  }
}

/**
 * Device keys and fingerprints of gateways (DESIGN §5). A gateway proves its install by signing
 * the hub's `welcome` nonce with the Ed25519 key it registered; its fingerprint (key, host name,
 * OS user) is trusted per agent: on first use of a fresh agent key, or by an owner's or admin's
 * approval (kind `device` for another device, `fingerprint` for a changed host or user). Each
 * grant row is that approval; a decision is an audit entry and a bus notice that wakes the
 * gateway's held connection.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { clip, GantryError, type Approval, type BindingSummary, type HelloFrame } from '@gantry/protocol';
import type { Actor } from './actor.ts';
import { requireRole } from '../auth/roles.ts';
import type { Bus } from '../bus.ts';
import { newId } from '../ids.ts';
import type { DeviceRow, GrantRow } from '../store/devices.ts';
import type { AgentRow, GatewayRow, Store } from '../store/store.ts';
import type { ApprovalNotices } from './approval-notices.ts';
import { gatewayApprovalView } from './views.ts';

export type { DeviceRow, GrantRow } from '../store/devices.ts';

/** Who the gateway says it is at connect or hello. */
export interface Fingerprint {
  /** `SHA256:...` of the device public key; `none` for a gateway that never registered one. */
  fingerprint: string;
  hostname: string;
  osUser: string;
}

export interface Trust {
  status: 'trusted' | 'pending' | 'denied';
  approvalId: string | null;
  message: string;
}

/** What a hello may serve: agents trusted now, and approvals still waited for. */
export interface Admission {
  served: { id: string; name: string }[];
  pending: { approvalId: string; message: string }[];
  denied: string[];
}

/** Owners and admins decide device approvals and read the audit log. */
export function requireAdmin(caller: Actor, what: string): void {
  requireRole(caller, 'admin', what);
}

export function keyFingerprint(publicKeyPem: string): string {
  let der: Buffer;
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    der = key.export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new GantryError(
      'invalid_request',
      `publicKey: not an Ed25519 public key (${(err as Error).message})`,
    );
  }
  return `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
}

export class Devices {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly options: { requireApproval: boolean; notices?: ApprovalNotices },
  ) {}

  get(gatewayId: string): Promise<DeviceRow | undefined> {
    return this.store.devices.get(gatewayId);
  }

  /** Whether `publicKey` is the key recorded for the gateway (a gateway with none matches any). */
  async keyMatches(gatewayId: string, publicKey: string | undefined): Promise<boolean> {
    const device = await this.get(gatewayId);
    if (!device) return true;
    return publicKey !== undefined && keyFingerprint(publicKey) === device.fingerprint;
  }

  /** `gateway connect`: records the device key the first time, and the host and user it reports. */
  async record(gateway: GatewayRow, input: { publicKey?: string; hostname?: string; osUser?: string }) {
    const now = Date.now();
    const device = await this.get(gateway.id);
    if (!input.publicKey) return this.fingerprintOf(device, input);
    const fingerprint = keyFingerprint(input.publicKey);
    if (!device) {
      await this.store.devices.insert({
        gateway_id: gateway.id,
        workspace_id: gateway.workspace_id,
        public_key: input.publicKey,
        fingerprint,
        hostname: input.hostname ?? '',
        os_user: input.osUser ?? '',
        created_at: now,
        updated_at: now,
      });
    }
    return { fingerprint, hostname: input.hostname ?? '', osUser: input.osUser ?? '' };
  }

  fingerprintOf(device: DeviceRow | undefined, input: { hostname?: string; osUser?: string }): Fingerprint {
    return {
      fingerprint: device?.fingerprint ?? 'none',
      hostname: input.hostname ?? device?.hostname ?? '',
      osUser: input.osUser ?? device?.os_user ?? '',
    };
  }

  /**
   * The trust of a gateway for an agent at this fingerprint, made if there is none yet: trusted on
   * first use of a fresh agent key, else a pending approval. `rerequest` (a new connect) asks again
   * after a denial; a hello never does.
   */
  async grant(gateway: GatewayRow, agent: AgentRow, fp: Fingerprint, rerequest: boolean): Promise<GrantRow> {
    const grants = await this.store.devices.grantsOfAgent(agent.id);
    const own = grants.filter((g) => g.gateway_id === gateway.id);
    const latest = own[0];
    const same = (g: GrantRow) =>
      g.fingerprint === fp.fingerprint && g.hostname === fp.hostname && g.os_user === fp.osUser;
    if (latest && same(latest) && !(latest.status === 'denied' && rerequest)) return latest;
    // The last fingerprint this gateway was trusted with: a change of host or user is asked about.
    const trusted = own.find((g) => g.status === 'approved');
    const others = await this.store.gateways.ofAgents([agent.id]);
    const fresh = grants.length === 0 && others.every((g) => g.id === gateway.id);
    // The same device (key, host, user) already trusted for this agent under another gateway
    // registration (e.g. its hub moved to another address): a restart on the same machine.
    const sameDevice = grants.find((g) => g.status === 'approved' && g.fingerprint !== 'none' && same(g));
    const now = Date.now();
    const kind = trusted ? 'fingerprint' : 'device';
    const tofu = fresh && !this.options.requireApproval;
    const auto = tofu || sameDevice !== undefined;
    const row: GrantRow = {
      id: newId('apv', now),
      workspace_id: gateway.workspace_id,
      gateway_id: gateway.id,
      agent_id: agent.id,
      kind,
      status: auto ? 'approved' : 'pending',
      subject: subjectOf(kind, agent, gateway, fp, trusted),
      fingerprint: fp.fingerprint,
      hostname: fp.hostname,
      os_user: fp.osUser,
      created_at: now,
      decided_at: auto ? now : null,
      decided_by: tofu ? 'trust_on_first_use' : sameDevice ? 'same_device' : null,
    };
    await this.store.devices.insertGrant(row);
    await this.store.audit.record({
      workspaceId: gateway.workspace_id,
      actor: `gateway:${gateway.id}`,
      action: tofu
        ? 'device_trusted_on_first_use'
        : sameDevice
          ? 'device_trusted_as_known'
          : 'device_approval_requested',
      subject: auto ? gateway.id : row.id,
      data: {
        kind,
        agent: agent.name,
        gatewayId: gateway.id,
        ...fingerprintData(fp),
        ...(sameDevice ? { approvalId: sameDevice.id } : {}),
      },
    });
    if (!auto) {
      this.bus.emit('approval', { approvalId: row.id, gatewayId: gateway.id });
      await this.options.notices?.requested({
        id: row.id,
        workspaceId: row.workspace_id,
        kind,
        subject: row.subject,
        agent: { id: agent.id, name: agent.name },
        gatewayId: gateway.id,
      });
    }
    return row;
  }

  /**
   * A hello: the signature over the nonce is checked against the recorded key, then each attached
   * agent's trust at the fingerprint the hello reports. Throws `device_mismatch` for a wrong key.
   */
  async admit(gateway: GatewayRow, frame: HelloFrame, nonce: string): Promise<Admission> {
    const device = await this.get(gateway.id);
    if (device && !signatureValid(device.public_key, nonce, frame.signature)) {
      throw new GantryError(
        'unauthorized',
        `this gateway's device key does not match the one the hub recorded for gateway ${gateway.name} (${gateway.id}): ` +
          `a copied gateway-session.json is refused; run \`gantry gateway connect\` on this machine to register it`,
        { details: { reason: 'device_mismatch' } },
      );
    }
    const fp = this.fingerprintOf(device, { hostname: frame.hostname, osUser: frame.osUser });
    const attached = await this.store.gateways.agentsOf([gateway.id]);
    const admission: Admission = { served: [], pending: [], denied: [] };
    for (const a of attached) {
      const agent = await this.store.agents.get(a.id);
      if (!agent) continue;
      const grant = await this.grant(gateway, agent, fp, false);
      if (grant.status === 'approved') admission.served.push({ id: a.id, name: a.name });
      else if (grant.status === 'pending')
        admission.pending.push({ approvalId: grant.id, message: pendingMessage(grant, agent) });
      else admission.denied.push(deniedMessage(grant, agent));
    }
    return admission;
  }

  /** Trust of one agent on a gateway right after `gateway connect`, for its answer. */
  async trustAfterConnect(gateway: GatewayRow, agent: AgentRow, fp: Fingerprint): Promise<Trust> {
    const grant = await this.grant(gateway, agent, fp, true);
    if (grant.status === 'approved') return { status: 'trusted', approvalId: grant.id, message: 'trusted' };
    return {
      status: grant.status === 'pending' ? 'pending' : 'denied',
      approvalId: grant.id,
      message: grant.status === 'pending' ? pendingMessage(grant, agent) : deniedMessage(grant, agent),
    };
  }

  // ---- approvals ------------------------------------------------------------------------------

  async owns(id: string): Promise<boolean> {
    return (await this.row(id)) !== undefined;
  }

  private row(id: string): Promise<GrantRow | undefined> {
    return this.store.devices.grant(id);
  }

  async approvals(caller: Actor, filter: { status?: string; limit?: number }): Promise<Approval[]> {
    requireAdmin(caller, 'read or decide approvals');
    // Trust on first use and a known device are recorded as grants but asked of no one: not approvals.
    const rows = await this.store.devices.approvals(caller.workspaceId, filter);
    return Promise.all(rows.map((row) => this.view(row)));
  }

  async approval(caller: Actor, id: string): Promise<Approval> {
    requireAdmin(caller, 'read or decide approvals');
    const row = await this.row(id);
    if (!row || row.workspace_id !== caller.workspaceId)
      throw new GantryError('not_found', `no approval ${id}`);
    return this.view(row);
  }

  async decide(caller: Actor, id: string, decision: 'approved' | 'denied'): Promise<Approval> {
    const current = await this.approval(caller, id);
    if (current.status !== 'pending') {
      throw new GantryError(
        'conflict',
        `approval ${id} is already ${current.status} by ${current.decidedBy ?? 'someone else'}`,
        { details: { status: current.status } },
      );
    }
    const now = Date.now();
    if (!(await this.store.devices.decideGrant(id, decision, caller.id, now)))
      return this.decide(caller, id, decision); // lost a race: say why
    const row = (await this.row(id)) as GrantRow;
    if (decision === 'approved') {
      // The approved host and user become the device's recorded ones.
      await this.store.devices.setHost(row.gateway_id, row.hostname, row.os_user, now);
    }
    await this.store.audit.record({
      workspaceId: row.workspace_id,
      actor: `user:${caller.id}`,
      action: `approval_${decision}`,
      subject: id,
      data: { kind: row.kind, gatewayId: row.gateway_id, agentId: row.agent_id, subject: row.subject },
    });
    this.bus.emit('approval', { approvalId: id, gatewayId: row.gateway_id });
    return this.view(row);
  }

  private async view(row: GrantRow): Promise<Approval> {
    const agent = await this.store.agents.get(row.agent_id);
    return gatewayApprovalView(row, { id: row.agent_id, name: agent?.name ?? row.agent_id });
  }

  // ---- bindings and the hub's view ----------------------------------------------------------

  /** `gateway bind` changes reported in hello or heartbeat: each change is an audit entry. */
  async bindings(
    gatewayId: string,
    workspaceId: string,
    summaries: readonly BindingSummary[],
  ): Promise<void> {
    const key = `bindings:${gatewayId}`;
    const saved = await this.store.meta.get(key);
    const before = JSON.parse(saved ?? '{}') as Record<string, BindingSummary>;
    const after: Record<string, BindingSummary> = {};
    for (const summary of summaries) {
      after[summary.agentId] = summary;
      const old = before[summary.agentId];
      // The first report of a gateway is what it had before the hub saw it: recorded, not a change.
      if (saved === undefined || (old && JSON.stringify(old) === JSON.stringify(summary))) continue;
      await this.store.audit.record({
        workspaceId,
        actor: `gateway:${gatewayId}`,
        action: 'binding_changed',
        subject: summary.agentId,
        data: { gatewayId, before: old ?? null, after: summary },
      });
    }
    if (JSON.stringify(before) !== JSON.stringify(after))
      await this.store.meta.set(key, JSON.stringify(after));
  }

  async bindingsOf(gatewayId: string): Promise<Record<string, BindingSummary>> {
    return JSON.parse((await this.store.meta.get(`bindings:${gatewayId}`)) ?? '{}') as Record<
      string,
      BindingSummary
    >;
  }

  /** The latest grant of each agent on a gateway. */
  async grantsOf(gatewayId: string): Promise<Map<string, GrantRow>> {
    const rows = await this.store.devices.grantsOfGateway(gatewayId);
    return new Map(rows.map((r) => [r.agent_id, r]));
  }
}

function signatureValid(publicKey: string, nonce: string, signature: string | undefined): boolean {
  if (!signature) return false;
  try {
    return verify(null, Buffer.from(nonce, 'utf8'), publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

function fingerprintData(fp: Fingerprint) {
  return { fingerprint: fp.fingerprint, hostname: fp.hostname, osUser: fp.osUser };
}

function subjectOf(
  kind: string,
  agent: AgentRow,
  gateway: GatewayRow,
  fp: Fingerprint,
  trusted: GrantRow | undefined,
): string {
  const where = `host ${fp.hostname || '?'} as user ${fp.osUser || '?'} (key ${fp.fingerprint.slice(0, 20)}…)`;
  const subject =
    kind === 'fingerprint' && trusted
      ? `agent ${agent.name}: gateway ${gateway.name} now on ${where}, was host ${trusted.hostname} as user ${trusted.os_user}`
      : `agent ${agent.name}: new device, gateway ${gateway.name} on ${where}`;
  return clip(subject, 300);
}

function pendingMessage(grant: GrantRow, agent: AgentRow): string {
  return (
    `this device waits for approval to serve agent ${agent.name} (approval ${grant.id}): ` +
    `an owner or admin runs \`gantry approvals approve ${grant.id}\``
  );
}

function deniedMessage(grant: GrantRow, agent: AgentRow): string {
  return (
    `an owner or admin denied this device for agent ${agent.name} (approval ${grant.id}); ` +
    `run \`gantry gateway connect\` again to ask again`
  );
}

/**
 * `/v1/approvals`: list, show, approve and deny; users of the workspace only. Owners and admins
 * see every kind; a member only the tool requests of runs they started.
 */
import { Hono, type Context } from 'hono';
import { approvalDecided, listApprovalsQuerySchema } from '@gantry/protocol';
import { hasRole } from '../auth/roles.ts';
import type { HubContext } from '../context.ts';
import { permissionFrame, type Decision } from '../domain/approvals.ts';
import { Folders } from '../domain/folders.ts';
import { approvalView } from '../domain/views.ts';
import type { ApprovalRow } from '../store/store.ts';
import { caller, query, type HubEnv } from './request.ts';

export function approvalRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  // Pass-through folders (kind `folder`) keep their approvals in their own table.
  const folders = new Folders(ctx.store, ctx.notices);

  const view = async (row: ApprovalRow) => {
    const agent = await ctx.store.agents.get(row.agent_id);
    return approvalView(row, agent ?? { id: row.agent_id, name: row.agent_id });
  };

  app.get('/', async (c) => {
    const who = caller(c);
    const filter = query(c, listApprovalsQuerySchema);
    const rows = await ctx.approvals.list(who, filter);
    const agents = new Map((await ctx.store.agents.list(who.workspaceId)).map((a) => [a.id, a]));
    const views = rows.map((row) =>
      approvalView(row, agents.get(row.agent_id) ?? { id: row.agent_id, name: '?' }),
    );
    const admin = hasRole(who, 'admin');
    const all = [
      ...views,
      ...(admin ? await folders.approvals(who, filter) : []),
      ...(admin ? await ctx.devices.approvals(who, filter) : []),
    ];
    all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return c.json(all.slice(0, filter.limit ?? 100));
  });

  app.get('/:id', async (c) => {
    if (!hasRole(caller(c), 'admin'))
      return c.json(await view(await ctx.approvals.get(caller(c), c.req.param('id'))));
    if (await ctx.devices.owns(c.req.param('id')))
      return c.json(await ctx.devices.approval(caller(c), c.req.param('id')));
    const folder = await folders.approval(caller(c), c.req.param('id'));
    return c.json(folder ?? (await view(await ctx.approvals.get(caller(c), c.req.param('id')))));
  });

  const decide = async (c: Context<HubEnv>, id: string, decision: Decision) => {
    const decided = await decideAny(c, id, decision);
    // Every decision is an event of the workspace (and, through the domain, an audit entry).
    const who = caller(c);
    await ctx.activity.append(approvalDecided, {
      workspaceId: who.workspaceId,
      actor: { kind: 'user', id: who.id, name: who.name },
      subject: decided.id,
      data: { approvalId: decided.id, kind: decided.kind, status: decided.status, subject: decided.subject },
    });
    return c.json(decided);
  };
  const decideAny = async (c: Context<HubEnv>, id: string, decision: Decision) => {
    // Device approvals (kinds `device`, `fingerprint`) wake the waiting gateway through the bus.
    const admin = hasRole(caller(c), 'admin');
    if (admin && (await ctx.devices.owns(id))) return ctx.devices.decide(caller(c), id, decision);
    if (admin && (await folders.approval(caller(c), id))) return folders.decide(caller(c), id, decision);
    const { approval, gatewayId } = await ctx.approvals.decide(caller(c), id, decision);
    // Wherever the gateway is connected; one that is away gets the decision when it reconnects.
    if (gatewayId) ctx.gateways.send(gatewayId, permissionFrame(approval));
    return view(approval);
  };
  app.post('/:id/approve', (c) => decide(c, c.req.param('id'), 'approved'));
  app.post('/:id/deny', (c) => decide(c, c.req.param('id'), 'denied'));

  return app;
}

/** `/v1/approvals`: list, show, approve and deny; users of the workspace only. */
import { Hono, type Context } from 'hono';
import { listApprovalsQuerySchema } from '@gantry/protocol';
import type { HubContext } from '../context.ts';
import { permissionFrame, type Decision } from '../domain/approvals.ts';
import { approvalView } from '../domain/views.ts';
import type { ApprovalRow } from '../store/store.ts';
import { caller, query, type HubEnv } from './request.ts';

export function approvalRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();

  const view = async (row: ApprovalRow) => {
    const agent = await ctx.store.getAgent(row.agent_id);
    return approvalView(row, agent ?? { id: row.agent_id, name: row.agent_id });
  };

  app.get('/', async (c) => {
    const who = caller(c);
    const rows = await ctx.approvals.list(who, query(c, listApprovalsQuerySchema));
    const agents = new Map((await ctx.store.listAgents(who.workspaceId)).map((a) => [a.id, a]));
    return c.json(
      rows.map((row) => approvalView(row, agents.get(row.agent_id) ?? { id: row.agent_id, name: '?' })),
    );
  });

  app.get('/:id', async (c) => c.json(await view(await ctx.approvals.get(caller(c), c.req.param('id')))));

  const decide = async (c: Context<HubEnv>, id: string, decision: Decision) => {
    const { approval, gatewayId } = await ctx.approvals.decide(caller(c), id, decision);
    // A gateway that is away gets the decision when it reconnects.
    if (gatewayId) ctx.links.get(gatewayId)?.send(permissionFrame(approval));
    return c.json(await view(approval));
  };
  app.post('/:id/approve', (c) => decide(c, c.req.param('id'), 'approved'));
  app.post('/:id/deny', (c) => decide(c, c.req.param('id'), 'denied'));

  return app;
}

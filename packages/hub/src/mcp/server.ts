/**
 * The hub's MCP server for one caller: every tool acts as the authenticated caller (an agent key
 * acts as that agent), through the same domain objects the REST routes use.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { version } from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import type { HubContext } from '../context.ts';
import { contextTools } from './context-tools.ts';
import { messageTools } from './message-tools.ts';
import { taskTools } from './task-tools.ts';
import { workTools } from './work-tools.ts';

export const mcpInstructions =
  'Gantry: a workspace shared by people and agents. Talk with send_message / read_inbox, track ' +
  'work with the task tools, share key/value context, give managed agents work with assign, and ' +
  'hand a task to an agent and wait for its reply with handoff. You act as the owner of your token.';

export function createMcpServer(ctx: HubContext, caller: Caller): McpServer {
  const server = new McpServer(
    { name: 'gantry', title: 'Gantry', version },
    { capabilities: { tools: {} }, instructions: mcpInstructions },
  );
  const scope = { ctx, caller, server };
  messageTools(scope);
  taskTools(scope);
  contextTools(scope);
  workTools(scope);
  return server;
}

#!/usr/bin/env node
/**
 * A tiny scripted ACP agent on the SDK's agent side, for the paths a real adapter does not take on
 * demand. What a prompt does depends on its text:
 *   `edit`  — a plan, an edit tool call with a diff (after asking permission), a reply, usage;
 *   `edit hold` — as `edit`, but after the permission answer it waits for a file `go` in its folder;
 *   `crash` — a line on stderr, then exit 3 in the middle of the turn;
 *   anything else — replies `ok`.
 * `--no-load` leaves out the loadSession capability.
 */
import { existsSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import * as acp from '@agentclientprotocol/sdk/unstable';

const canLoad = !process.argv.includes('--no-load');
const cwds = new Map();

async function prompt({ params, client }) {
  const { sessionId } = params;
  const text = params.prompt.map((block) => (block.type === 'text' ? block.text : '')).join('');
  const update = (u) => client.notify('session/update', { sessionId, update: u });
  const say = (t) => update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: t } });

  if (text.includes('crash')) {
    await say('Starting');
    process.stderr.write('fake agent: out of memory\n');
    process.exit(3);
  }
  if (!text.includes('edit')) {
    await say('ok');
    return { stopReason: 'end_turn' };
  }
  const path = join(cwds.get(sessionId) ?? process.cwd(), 'notes.md');
  await update({
    sessionUpdate: 'plan',
    entries: [
      { content: 'Read the notes', priority: 'high', status: 'completed' },
      { content: 'Write the notes', priority: 'high', status: 'in_progress' },
    ],
  });
  await say('I will write the notes.');
  const call = { toolCallId: 'call_1', title: `Write ${path}`, kind: 'edit', rawInput: { file_path: path } };
  await update({ sessionUpdate: 'tool_call', status: 'pending', ...call });
  const answer = await client.request('session/request_permission', {
    sessionId,
    toolCall: call,
    options: [
      { optionId: 'yes', name: 'Allow', kind: 'allow_once' },
      { optionId: 'no', name: 'Reject', kind: 'reject_once' },
    ],
  });
  const allowed = answer.outcome.outcome === 'selected' && answer.outcome.optionId === 'yes';
  const go = join(cwds.get(sessionId) ?? process.cwd(), 'go');
  while (text.includes('hold') && !existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 50));
  await update({
    sessionUpdate: 'tool_call_update',
    toolCallId: 'call_1',
    status: allowed ? 'completed' : 'failed',
    content: [{ type: 'diff', path, oldText: null, newText: '# Notes\n' }],
  });
  await say(allowed ? 'Wrote the notes.' : 'Could not write the notes.');
  return { stopReason: 'end_turn', usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 } };
}

acp
  .agent({ name: 'fake-acp-agent' })
  .onRequest('initialize', () => ({
    protocolVersion: 1,
    agentCapabilities: { loadSession: canLoad },
    agentInfo: { name: 'fake-acp-agent', version: '1.0.0' },
  }))
  .onRequest('session/new', ({ params }) => {
    const sessionId = `sess_${process.pid}`;
    cwds.set(sessionId, params.cwd);
    return { sessionId };
  })
  .onRequest('session/prompt', prompt)
  .onNotification('session/cancel', () => undefined)
  .connect(acp.ndJsonStream(Writable.toWeb(process.stdout), Readable.toWeb(process.stdin)))
  .closed.then(() => process.exit(0));

// The Activity view's line for an entry names its agent or gateway, never only an id.
import { expect, it } from 'vitest';
import type { ActivityEvent } from '@gantry/protocol';
import { describe as line, linkOf } from '../src/views/activity/describe.ts';

const entry = (
  type: string,
  data: Record<string, unknown>,
  subject: string | null = null,
): ActivityEvent => ({
  id: 1,
  type,
  ts: '2026-12-07T01:00:00.000Z',
  actor: { kind: 'user', id: 'usr_1', name: 'owner' },
  subject,
  data,
});

it('names the agent a pause, a resume or a dispatched mention is about', () => {
  const agent = { id: 'agt_1', name: 'reviewer' };
  expect(line(entry('agent.paused', { agent }, 'agt_1'))).toBe('reviewer paused');
  expect(line(entry('agent.resumed', { agent }, 'agt_1'))).toBe('reviewer resumed');
  const mention = entry('mention.dispatched', { agent, messageId: 'msg_1', assignmentId: 'asg_1' }, 'msg_1');
  expect(line(mention)).toBe('to reviewer');
  expect(linkOf(mention)).toBe('/assignments/asg_1');
});

it('names a gateway and the agents it serves', () => {
  const data = { gateway: { id: 'gw_1', name: 'laptop' }, agents: [{ id: 'agt_1', name: 'echo' }] };
  expect(line(entry('gateway.connected', data, 'gw_1'))).toBe('laptop connected (echo)');
});

it("says which of a task's fields changed in words, not the API's names", () => {
  const task = { id: 'tsk_1', title: 'review the login page' };
  const updated = entry('task.updated', { task, changes: ['status', 'assignmentId'] }, 'tsk_1');
  expect(line(updated)).toBe('review the login page (status, run)');
});

it("says how many messages were read, the reader being the entry's actor", () => {
  const reader = { kind: 'agent', id: 'agt_1', name: 'echo' };
  expect(line(entry('message.read', { reader, messageIds: ['msg_1'] }))).toBe('read 1 message');
  expect(line(entry('message.read', { reader, messageIds: ['msg_1', 'msg_2'] }))).toBe('read 2 messages');
});

// What an open dashboard hears by push besides messages and work: a gateway connecting and leaving
// (who is live), and mail being read (unread counts per agent, unread marks in other tabs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, AgentReach } from '@gantry/protocol';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { eventually, Sandbox, type Service } from './harness.ts';

describe('presence and mail reads in the activity log', () => {
  const box = new Sandbox();
  let hubUrl: string;
  let ownerToken: string;
  let gateway: Service;

  beforeAll(async () => {
    const { ready } = await startHub(box);
    hubUrl = ready.url;
    ownerToken = ready.ownerToken;
    const echo = await createAgent(box, 'echo');
    await box.json(connectArgs(hubUrl, echo.key, 'echo'));
  });
  afterAll(() => box.cleanup());

  async function get<T>(path: string, token = ownerToken): Promise<T> {
    const response = await fetch(`${hubUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }
  const entries = (type: string, token?: string) =>
    get<ActivityEvent[]>(`/v1/events?since=0&limit=10000&type=${type}`, token);

  it('a gateway connecting and leaving is an entry naming it and the agents it serves', async () => {
    gateway = box.start(['gateway', 'start', '--port', '0', '--json']);
    await gateway.ready();
    const [connected] = await eventually(async () => {
      const found = await entries('gateway.connected');
      return found.length > 0 ? found : undefined;
    });
    expect(connected?.data).toMatchObject({ agents: [{ name: 'echo' }] });
    const gatewayName = (connected?.data as { gateway: { name: string } }).gateway.name;

    await gateway.stop();
    const [left] = await eventually(async () => {
      const found = await entries('gateway.disconnected');
      return found.length > 0 ? found : undefined;
    });
    expect(left?.data).toMatchObject({ gateway: { name: gatewayName }, agents: [{ name: 'echo' }] });
    expect(left?.subject).toBe(connected?.subject);
  });

  it('unread mail is counted per agent, and reading it is a message.read entry only the reader and people see', async () => {
    const reader = await box.json<{ id: string; key: string }>([
      'agents',
      'create',
      'reader',
      '--kind',
      'pass_through',
    ]);
    const other = await box.json<{ id: string; key: string }>([
      'agents',
      'create',
      'other',
      '--kind',
      'pass_through',
    ]);
    await box.json(['send', '@reader one', '--json']);
    await box.json(['send', '@reader two', '--json']);
    const unreadOf = async (name: string) =>
      (await get<AgentReach[]>('/v1/agents/reachability')).find((r) => r.agent.name === name)?.unread;
    expect(await unreadOf('reader')).toBe(2);
    expect(await unreadOf('other')).toBe(0);

    const inbox = await get<{ messages: { id: string }[] }>('/v1/inbox?markRead=true', reader.key);
    expect(inbox.messages).toHaveLength(2);
    expect(await unreadOf('reader')).toBe(0);

    const [read] = await entries('message.read');
    expect(read?.data).toEqual({
      reader: { kind: 'agent', id: reader.id, name: 'reader' },
      messageIds: inbox.messages.map((m) => m.id),
    });
    expect(await entries('message.read', reader.key)).toHaveLength(1);
    expect(await entries('message.read', other.key)).toEqual([]);
    // Reading nothing new says nothing.
    await get('/v1/inbox?markRead=true', reader.key);
    expect(await entries('message.read')).toHaveLength(1);
  });
});

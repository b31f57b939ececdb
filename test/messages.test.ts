// Messages and mailboxes through a real hub and CLI processes: `send` (mentions, threads, --wait,
// --file), `inbox` and its delivery cursor (push wake-up, no old mail, nothing missed, no message to
// two waits), and `messages list|read`. Agents act as themselves with their key in GANTRY_TOKEN.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inbox, Message } from '@gantry/protocol';
import { Sandbox, sleep, type CliResult, type Service } from './harness.ts';
import { createAgent, startHub, type HubReady } from './fixtures.ts';

let box: Sandbox;
let hub: HubReady;
let owner: { id: string; name: string };
let bot: { id: string; key: string };
let helper: { id: string; key: string };

beforeAll(async () => {
  box = new Sandbox();
  ({ ready: hub } = await startHub(box));
  const me = await box.json<{ principal: { id: string; name: string } }>(['whoami']);
  owner = me.principal;
  bot = await createAgent(box, 'bot');
  helper = await createAgent(box, 'helper');
});
afterAll(() => box.cleanup());

const as = (agent: { key: string }) => ({ GANTRY_TOKEN: agent.key });
const json = <T>(result: CliResult): T => {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
};
const sendAs = async (agent: { key: string } | undefined, args: string[]) =>
  json<{ message: Message; reply: Message | null }>(
    await box.run(['send', ...args, '--json'], agent ? as(agent) : {}),
  ).message;
const inboxOf = (agent: { key: string }, args: string[] = []) =>
  box.run(['inbox', ...args, '--json'], as(agent)).then((r) => json<Inbox>(r));
/** Setup through the REST API (quicker than a process): send as the owner, or as `agent`. */
async function post<T>(path: string, body: unknown, agent?: { key: string }): Promise<T> {
  const response = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${agent?.key ?? hub.ownerToken}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
const say = (body: string, agent?: { key: string }) => post<Message>('/v1/messages', { body }, agent);
/** Marks whatever is in the mailbox read, so a test starts from an empty one. */
const drain = (agent?: { key: string }) => post('/v1/messages/read-all', {}, agent);
/** A CLI process still running: started in the background, its end timed. */
function background(args: string[], env: Record<string, string> = {}) {
  const service: Service = box.start(args, env);
  const ended = service.exited.then((code) => ({
    code,
    at: Date.now(),
    stdout: service.stdout,
    stderr: service.stderr,
  }));
  return { service, ended };
}

describe('send', () => {
  it('resolves @mentions and --to, and prints the message with its author and thread', async () => {
    const result = await box.run(['send', 'hello @bot, a question', '--to', 'helper', '--json']);
    const { message, reply } = json<{ message: Message; reply: Message | null }>(result);
    expect(reply).toBeNull();
    expect(message.id).toMatch(/^msg_/);
    expect(message.author).toEqual({ kind: 'user', id: owner.id, name: owner.name });
    expect(message.body).toBe('hello @bot, a question');
    expect(message.mentions).toEqual([
      { kind: 'agent', id: bot.id, name: 'bot' },
      { kind: 'agent', id: helper.id, name: 'helper' },
    ]);
    expect(message.parentId).toBeNull();
    expect(message.threadId).toBe(message.id);
    expect(Date.parse(message.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    // Without --json it prints the id.
    const plain = await box.run(['send', 'and another @bot']);
    expect(plain.code).toBe(0);
    expect(plain.stdout.trim()).toMatch(/^msg_\w+$/);
    await Promise.all([drain(bot), drain(helper)]);
  });

  it('takes the words of an unquoted text as one text, joined by spaces', async () => {
    const result = await box.run(['send', '@bot', 'please', 'look', 'again', '--to', 'helper', '--json']);
    expect(result.code).toBe(0);
    const { message } = json<{ message: Message }>(result);
    expect(message.body).toBe('@bot please look again');
    expect(message.mentions.map((p) => p.name)).toEqual(['bot', 'helper']);
    await Promise.all([drain(bot), drain(helper)]);
  });

  it('refuses an unknown @name with a clear message and sends nothing', async () => {
    const before = json<Message[]>(await box.run(['messages', 'list', '--json']));
    const result = await box.run(['send', 'hi @nobody and @bot']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gantry: no agent or user named @nobody\b/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const after = json<Message[]>(await box.run(['messages', 'list', '--json']));
    expect(after.map((m) => m.id)).toEqual(before.map((m) => m.id));
    expect((await inboxOf(bot)).messages).toEqual([]);
  });

  it("threads a reply under its parent and puts it in the parent author's mailbox", async () => {
    const question = await sendAs(undefined, ['what is 2+2? @bot']);
    const answer = await sendAs(bot, ['4', '--parent', question.id]);
    expect(answer.parentId).toBe(question.id);
    expect(answer.threadId).toBe(question.id);
    expect(answer.author).toEqual({ kind: 'agent', id: bot.id, name: 'bot' });
    expect(answer.mentions).toEqual([{ kind: 'user', id: owner.id, name: owner.name }]);
    const mine = await box.run(['inbox', '--json']).then((r) => json<Inbox>(r));
    expect(mine.messages.map((m) => m.id)).toContain(answer.id);
    // A follow-up in the thread by the owner (to the agent's message) reaches the agent.
    const more = await sendAs(undefined, ['and 3+3?', '--parent', answer.id]);
    expect(more.threadId).toBe(question.id);
    expect((await inboxOf(bot)).messages.map((m) => m.id)).toContain(more.id);
    // The whole thread, as the agent sees it; an agent with no message in it does not see it.
    const thread = json<Message[]>(
      await box.run(['messages', 'list', '--thread', answer.id, '--json'], as(bot)),
    );
    expect(thread.map((m) => m.id)).toEqual([question.id, answer.id, more.id]);
    const outsider = await box.run(['messages', 'list', '--thread', question.id], as(helper));
    expect(outsider.code).toBe(3);
    await Promise.all([drain(bot), drain()]);
  });

  it('refuses a reply to a message the sender cannot read (exit 3), and the thread stays closed', async () => {
    const question = await sendAs(undefined, ['a word in private @bot']);
    const intruder = await box.run(['send', 'let me in', '--parent', question.id], as(helper));
    expect(intruder.code, intruder.stderr).toBe(3);
    expect(intruder.stderr).toContain(`no message ${question.id}`);
    expect((await box.run(['messages', 'list', '--thread', question.id], as(helper))).code).toBe(3);
    const thread = json<Message[]>(await box.run(['messages', 'list', '--thread', question.id, '--json']));
    expect(thread.map((m) => m.id)).toEqual([question.id]);
    await drain(bot);
  });

  it('--file attaches the file through the workspace context', async () => {
    const path = join(box.home, 'notes.md');
    writeFileSync(path, '# Notes\n\nship it\n');
    const message = await sendAs(undefined, ['see the notes @helper', '--file', path]);
    const [attachment] = message.metadata.attachments as { key: string; name: string; size: number }[];
    expect(attachment).toMatchObject({ name: 'notes.md', size: 17 });
    const bytes = await fetch(`${hub.url}/v1/context/${encodeURIComponent(attachment!.key)}/file`, {
      headers: { authorization: `Bearer ${helper.key}` },
    });
    expect(bytes.status).toBe(200);
    expect(await bytes.text()).toBe('# Notes\n\nship it\n');
    // A message that cannot be sent leaves no attachment behind.
    const listAttachments = async () => {
      const response = await fetch(`${hub.url}/v1/context?prefix=attachments/`, {
        headers: { authorization: `Bearer ${hub.ownerToken}` },
      });
      return ((await response.json()) as { key: string }[]).map((e) => e.key);
    };
    expect(await listAttachments()).toEqual([attachment!.key]);
    const refused = await box.run(['send', 'see @nobody', '--file', path]);
    expect(refused.code).toBe(2);
    expect(await listAttachments()).toEqual([attachment!.key]);
    const missing = await box.run(['send', 'nope @helper', '--file', join(box.home, 'missing.md')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^gantry: cannot read --file .*missing\.md \(ENOENT\)/);
    await drain(helper);
  });
});

describe('send --wait', () => {
  it('prints the reply of the mentioned agent, and exits 124 when none comes', async () => {
    // The agent, in another process: waits for mail, then answers in the thread with its key.
    const agent = (async () => {
      const got = await inboxOf(bot, ['--wait', '20', '--mark-read']);
      const question = got.messages[0]!;
      return sendAs(bot, [`answer to: ${question.body}`, '--parent', question.id]);
    })();
    await sleep(300);
    const result = await box.run(['send', 'ready? @bot', '--wait', '20', '--json']);
    const { message, reply } = json<{ message: Message; reply: Message | null }>(result);
    const answer = await agent;
    expect(reply?.id).toBe(answer.id);
    expect(reply).toMatchObject({
      body: 'answer to: ready? @bot',
      author: { kind: 'agent', id: bot.id, name: 'bot' },
      parentId: message.id,
      threadId: message.id,
    });
    // Printed, so read: the reply is not unread mail afterwards.
    const unread = json<Message[]>(await box.run(['messages', 'list', '--unread', '--json']));
    expect(unread.map((m) => m.id)).not.toContain(answer.id);

    const t0 = Date.now();
    const silent = await box.run(['send', 'anyone? @bot', '--wait', '1']);
    expect(silent.code).toBe(124);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(silent.stderr).toMatch(/^gantry: no reply from @bot within 1\.0s/);
    const silentJson = await box.run(['send', 'anyone now? @bot', '--wait', '1', '--json']);
    expect(silentJson.code).toBe(124);
    expect(JSON.parse(silentJson.stdout)).toMatchObject({
      message: { body: 'anyone now? @bot' },
      reply: null,
    });

    const nobody = await box.run(['send', 'talking to myself', '--wait', '1']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/--wait needs someone to answer/);
    await Promise.all([drain(bot), drain()]);
  });
});

describe('inbox', () => {
  it('--wait returns within milliseconds of a message being sent, not before', async () => {
    await drain(bot);
    const waiter = background(['inbox', '--wait', '20', '--json'], as(bot));
    await sleep(1500);
    expect(waiter.service.proc.exitCode).toBeNull(); // blocked: there was nothing to hand out
    const sendStarted = Date.now();
    const sent = await box.run(['send', 'wake up @bot']);
    const sendEnded = Date.now();
    const woke = await waiter.ended;
    expect(woke.code).toBe(0);
    const box1 = JSON.parse(woke.stdout) as Inbox;
    expect(box1.timedOut).toBe(false);
    expect(box1.messages.map((m) => m.id)).toEqual([sent.stdout.trim()]);
    expect(woke.at).toBeGreaterThanOrEqual(sendStarted);
    // The send's own process takes longer to end than the waiter needs to wake up.
    expect(woke.at - sendEnded).toBeLessThan(500);
    await drain(bot);
  });

  it('--wait does not return mail an inbox call already handed out; it times out with exit 0', async () => {
    await drain(bot);
    const old = await say('old news @bot');
    const plain = await inboxOf(bot); // hands it out (still unread)
    expect(plain.messages.map((m) => m.id)).toEqual([old.id]);
    const t0 = Date.now();
    const waited = await box.run(['inbox', '--wait', '1', '--json'], as(bot));
    expect(waited.code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(JSON.parse(waited.stdout)).toEqual({ messages: [], timedOut: true });
    const human = await box.run(['inbox', '--wait', '500ms'], as(bot));
    expect(human.code).toBe(0);
    expect(human.stdout.trim()).toBe('No new messages in 500ms.');
    // Still unread: a plain inbox lists it, with author, time, first line and id.
    const listed = await box.run(['inbox'], as(bot));
    expect(listed.stdout).toMatch(
      new RegExp(`owner +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +old news @bot +${old.id}`),
    );
    await drain(bot);
  });

  it('misses nothing that arrives between two calls', async () => {
    await drain(bot);
    const first = await say('one @bot');
    expect((await inboxOf(bot, ['--wait', '5'])).messages.map((m) => m.id)).toEqual([first.id]);
    const second = await say('two @bot');
    const third = await say('three @bot', helper);
    const t0 = Date.now();
    const next = await inboxOf(bot, ['--wait', '10']);
    expect(Date.now() - t0).toBeLessThan(5000); // at once, not at the timeout
    expect(next).toEqual({
      messages: [expect.objectContaining({ id: second.id }), expect.objectContaining({ id: third.id })],
      timedOut: false,
    });
    expect(await inboxOf(bot, ['--wait', '300ms'])).toEqual({ messages: [], timedOut: true });
    await drain(bot);
  });

  it('a wait whose client went away takes nothing', async () => {
    await drain(bot);
    const waiter = background(['inbox', '--wait', '20', '--json'], as(bot));
    await sleep(1500);
    expect(waiter.service.proc.exitCode).toBeNull();
    await waiter.service.stop('SIGKILL');
    await sleep(200);
    const after = await say('after the waiter left @bot');
    expect(await inboxOf(bot, ['--wait', '5'])).toEqual({
      messages: [expect.objectContaining({ id: after.id })],
      timedOut: false,
    });
    await drain(bot);
  });

  it('gives concurrent waits of one agent disjoint messages, and loses none', async () => {
    await drain(helper);
    const waiters = [1, 2, 3].map(() => background(['inbox', '--wait', '20', '--json'], as(helper)));
    await sleep(1500);
    // Pairs of messages at once, until every waiter has taken something and ended.
    const sent: string[] = [];
    for (let n = 0; n < 10 && waiters.some((w) => w.service.proc.exitCode === null); n++) {
      sent.push(
        ...(await Promise.all([say(`burst ${n}a @helper`), say(`burst ${n}b @helper`)])).map((m) => m.id),
      );
      await sleep(200);
    }
    const got = (await Promise.all(waiters.map((w) => w.ended))).map((r) => {
      expect(r.code).toBe(0);
      const mail = JSON.parse(r.stdout) as Inbox;
      expect(mail.timedOut).toBe(false);
      return mail.messages.map((m) => m.id);
    });
    const handed = got.flat();
    expect(new Set(handed).size).toBe(handed.length); // nothing handed out twice
    // What no waiter took is still there, and the next wait gets it at once.
    const rest = (await inboxOf(helper, ['--wait', '1'])).messages.map((m) => m.id);
    expect([...handed, ...rest].sort()).toEqual([...sent].sort());
    await drain(helper);
  });

  it('--mark-read, messages read ID and read --all', async () => {
    await drain(helper);
    const a = await say('a @helper');
    const b = await say('b @helper');
    const got = await inboxOf(helper, ['--mark-read']);
    expect(got.messages.map((m) => [m.id, m.read])).toEqual([
      [a.id, true],
      [b.id, true],
    ]);
    expect(json<Message[]>(await box.run(['messages', 'list', '--unread', '--json'], as(helper)))).toEqual(
      [],
    );
    expect((await inboxOf(helper)).messages).toEqual([]);

    const c = await say('c @helper');
    const d = await say('d @helper');
    const e = await say('e @helper');
    const unread = json<Message[]>(await box.run(['messages', 'list', '--unread', '--json'], as(helper)));
    expect(unread.map((m) => [m.id, m.read])).toEqual([
      [c.id, false],
      [d.id, false],
      [e.id, false],
    ]);
    const one = json<Message>(await box.run(['messages', 'read', c.id, '--json'], as(helper)));
    expect(one).toMatchObject({ id: c.id, read: true });
    const all = await box.run(['messages', 'read', '--all'], as(helper));
    expect(all.stdout.trim()).toBe('Marked 2 messages read.');
    expect((await inboxOf(helper)).messages).toEqual([]);
    const listed = json<Message[]>(await box.run(['messages', 'list', '--limit', '3', '--json'], as(helper)));
    expect(listed.map((m) => m.id)).toEqual([c.id, d.id, e.id]);
    expect(listed.every((m) => m.read === true)).toBe(true);

    const neither = await box.run(['messages', 'read'], as(helper));
    expect(neither.code).toBe(2);
    expect(neither.stderr).toBe('gantry: give a message ID or --all (not both)\n');
    const unknown = await box.run(['messages', 'read', 'msg_nope'], as(helper));
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe('gantry: no message msg_nope\n');
  });
});

describe('access', () => {
  it('a gateway token takes no part in messages (403)', async () => {
    const relay = await createAgent(box, 'relay');
    const { gatewayToken } = await post<{ gatewayToken: string }>(
      '/v1/gateways/connect',
      { name: 'relay-gw', provider: 'echo' },
      relay,
    );
    const gateway = { key: gatewayToken };
    const refused = await box.run(['inbox'], as(gateway));
    expect(refused.code).toBe(4);
    expect(refused.stderr).toBe(
      'gantry: a gateway token cannot take part in messages: use a user token or an agent key\n',
    );
    for (const [method, path] of [
      ['POST', '/v1/messages'],
      ['GET', '/v1/messages'],
      ['GET', '/v1/inbox?wait=10'],
      ['POST', '/v1/messages/read-all'],
    ] as const) {
      const response = await fetch(`${hub.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${gatewayToken}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ body: 'hi' }) } : {}),
      });
      expect([path, response.status]).toEqual([path, 403]);
    }
  });
});

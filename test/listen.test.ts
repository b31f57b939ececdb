// `gantry listen` through a real hub: a mention runs the command and its output is the threaded
// reply; a failing command is answered with its error; a full queue is answered and reported, never
// dropped; the listener refuses a credential that is not the agent's, stops after the current
// command on SIGTERM, and keeps retrying while the hub is unreachable.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, Inbox, Message } from '@gantry/protocol';
import { eventually, Sandbox, sleep, type Service } from './harness.ts';
import { startHub } from './fixtures.ts';

describe('gantry listen', () => {
  const box = new Sandbox();
  let hubUrl: string;
  let ownerToken: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    const { ready } = await startHub(box);
    hubUrl = ready.url;
    ownerToken = ready.ownerToken;
    for (const name of ['echoer', 'slow', 'stopper']) keys[name] = await passThrough(name);
    await listen(
      'echoer',
      box.script(
        'echoer.sh',
        `case "$1" in
  *fail*) echo "half done"; echo "disk full" >&2; exit 3 ;;
esac
echo "arg=$1"
echo "content=$GANTRY_MENTION_CONTENT id=$GANTRY_MENTION_ID author=$GANTRY_MENTION_AUTHOR thread=$GANTRY_THREAD_ID"
if read line; then echo "stdin was open"; fi`,
      ),
    );
  }, 60_000);
  afterAll(() => box.cleanup());

  async function passThrough(name: string): Promise<string> {
    const response = await fetch(`${hubUrl}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, kind: 'pass_through' }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { key: string }).key;
  }

  async function listen(agent: string, script: string, args: string[] = []): Promise<Service> {
    const service = box.start(['listen', '--agent', agent, '--exec', script, '--json', ...args], {
      GANTRY_TOKEN: keys[agent],
    });
    await service.ready();
    // Live once its first inbox wait is open.
    await eventually(async () => {
      const ping = await box.run(['agents', 'ping', agent]);
      return ping.code === 0 ? true : undefined;
    });
    return service;
  }

  const send = (text: string) => box.json<{ message: Message }>(['send', text]).then((r) => r.message);

  /** The workspace's activity log of one type, from the start. */
  async function activity(type: string): Promise<ActivityEvent[]> {
    const response = await fetch(`${hubUrl}/v1/events?since=0&type=${type}`, {
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ActivityEvent[];
  }

  const thread = (id: string) => box.json<Message[]>(['messages', 'list', '--thread', id]);

  it('runs the command for a mention and posts its output as the threaded reply', async () => {
    const sent = await box.json<{ message: Message; reply: Message }>([
      'send',
      '@echoer hello there',
      '--wait',
      '10s',
    ]);
    const { message, reply } = sent;
    expect(reply).toMatchObject({
      author: { name: 'echoer' },
      parentId: message.id,
      threadId: message.threadId,
    });
    expect(reply.body).toBe(
      `arg=@echoer hello there\ncontent=@echoer hello there id=${message.id} author=owner thread=${message.threadId}`,
    );
    // Handled mail is read: nothing is left in the agent's inbox.
    const inbox = await box.json<Inbox>(['inbox'], { GANTRY_TOKEN: keys.echoer });
    expect(inbox.messages).toEqual([]);
  });

  it('answers a failing command with its exit code and the end of its stderr', async () => {
    const { reply } = await box.json<{ reply: Message }>(['send', '@echoer please fail', '--wait', '10s']);
    expect(reply.body).toBe('The command failed (exit 3):\ndisk full');
  });

  it('answers a message past the full queue and reports it, dropping nothing', async () => {
    const gate = `${box.home}/gate`;
    // Each run waits for the gate file, so the queue fills while the first one runs.
    const slow = await listen(
      'slow',
      box.script('slow.sh', `while [ ! -e ${gate} ]; do sleep 0.05; done; echo "done: $1"`),
      ['--queue-size', '1'],
    );
    const sent: Message[] = [];
    for (const n of [1, 2, 3, 4]) {
      sent.push(await send(`@slow job ${n}`));
      // The first one is running before the next arrives.
      if (n === 1) await eventually(async () => (slow.stdout.includes('"started"') ? true : undefined));
    }
    await eventually(async () =>
      (slow.stdout.match(/"queue_full"/g) ?? []).length === 2 ? true : undefined,
    );
    writeFileSync(gate, '');
    const events = await activity('listener.queue_full');
    expect(events.map((e) => [e.type, e.subject, e.actor?.name])).toEqual([
      ['listener.queue_full', sent[2]?.id, 'slow'],
      ['listener.queue_full', sent[3]?.id, 'slow'],
    ]);
    const replies = await Promise.all(
      sent.map((m) =>
        eventually(async () => {
          const t = await thread(m.id);
          return t.find((r) => r.author.name === 'slow');
        }),
      ),
    );
    expect(replies.map((r) => r.body)).toEqual([
      'done: @slow job 1',
      'done: @slow job 2',
      expect.stringContaining('queue is full (1 waiting)'),
      expect.stringContaining('queue is full (1 waiting)'),
    ]);
  });

  it('refuses a credential that is not the agent it listens as', async () => {
    const asOwner = await box.run(['listen', '--agent', 'echoer', '--exec', 'true']);
    expect(asOwner.code).toBe(4);
    expect(asOwner.stderr).toBe(
      "gantry: listen --agent echoer needs echoer's own key (GANTRY_TOKEN=<its key> or --token); this credential is user owner\n",
    );
    const other = await box.run(['listen', '--agent', 'echoer', '--exec', 'true'], {
      GANTRY_TOKEN: keys.slow,
    });
    expect(other.code).toBe(4);
    expect(other.stderr).toContain('this credential is agent slow');
  });

  it('stops on SIGTERM once the running command has answered, and exits 0', async () => {
    const gate = `${box.home}/stop-gate`;
    const stopper = await listen(
      'stopper',
      box.script('stopper.sh', `while [ ! -e ${gate} ]; do sleep 0.05; done; echo "finished $1"`),
    );
    const message = await send('@stopper one last thing');
    await eventually(async () => (stopper.stdout.includes('"started"') ? true : undefined));
    stopper.proc.kill('SIGTERM');
    await sleep(300);
    expect(stopper.proc.exitCode).toBeNull(); // still running its command
    writeFileSync(gate, '');
    expect(await stopper.exited).toBe(0);
    expect(stopper.stderr).toContain('stopping after the current command');
    const replies = (await thread(message.id)).filter((m) => m.author.name === 'stopper');
    expect(replies.map((r) => r.body)).toEqual(['finished @stopper one last thing']);
  });

  it('says when the hub is unreachable and keeps retrying', async () => {
    const service = box.start(
      ['listen', '--agent', 'echoer', '--exec', 'true', '--hub', 'http://127.0.0.1:9'],
      {
        GANTRY_TOKEN: keys.echoer,
      },
    );
    await eventually(async () => (service.stderr.includes('retrying') ? true : undefined));
    expect(service.stderr).toContain('cannot reach the hub at http://127.0.0.1:9');
    await sleep(1500);
    expect(service.proc.exitCode).toBeNull();
    expect(await service.stop('SIGINT')).toBe(0);
  });
});

// Issue 12, agents with agents, through a real hub, gateway and CLI: the exact runaway (a planner
// that always hands off to a coder, a coder that always answers "@planner done") stays within its
// chain's limits and goes quiet by itself, with the limit entry and a message to the person who
// asked; a person may raise the runs of one request and let a stopped chain go on; a run's token
// speaks only as its agent, in its run, and is useless once the run ended; a chain keeps its
// identity and limits across a hub restart.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal, type ActivityEvent, type Assignment, type Chain, type Message } from '@gantry/protocol';
import { cliPath, eventually, Sandbox, sleep, type Service } from './harness.ts';
import { connectArgs, createAgent, startHub } from './fixtures.ts';

/** The generic provider runs these with the prompt as $1; `gantry` inside a run acts with its run token. */
const gantry = `"${process.execPath}" "${cliPath}"`;
// A request that says "nowait" (its text travels on in every handoff's prompt) hands off without
// waiting; a coder finding the file "slow" takes its time.
const plannerScript = `case "$1" in *nowait*) wait=1ms ;; *) wait=60s ;; esac
${gantry} handoff coder "fix: $1" --timeout $wait 2>&1 || echo "handoff ended $?"`;
const coderScript = (home: string) => `[ -f "${home}/slow" ] && sleep 4; echo "@planner done"`;

describe('chains of agents driving agents', () => {
  const box = new Sandbox();
  let hub: Service;
  let hubUrl: string;
  let events: Service;
  let ownerId: string;

  beforeAll(async () => {
    const started = await startHub(box);
    hub = started.hub;
    hubUrl = started.ready.url;
    const scripts = {
      planner: box.script('planner.sh', plannerScript),
      coder: box.script('coder.sh', coderScript(box.home)),
      keeper: box.script(
        'keeper.sh',
        `cp "$GANTRY_TOKEN_FILE" "${box.home}/kept-token"
${gantry} whoami --json > "${box.home}/kept-whoami.json"
${gantry} users list > /dev/null 2>&1; echo "users exit $?" > "${box.home}/kept-users"
${gantry} send "noted by keeper" --to owner --json > "${box.home}/kept-send.json"
echo "kept"`,
      ),
      quiet: box.script('quiet.sh', 'echo NO_REPLY'),
      silent: box.script(
        'silent.sh',
        `echo "looked at it"; echo 'GANTRY_EVENT {"type":"result","reply":false}'`,
      ),
    };
    for (const [name, bin] of Object.entries(scripts)) {
      const agent = await createAgent(box, name);
      // Each in its own folder: a planner waiting on its handoff never holds the coder's folder.
      await box.json(connectArgs(hubUrl, agent.key, 'generic', bin));
      const workdir = join(box.home, `work-${name}`);
      mkdirSync(workdir);
      await box.json(['gateway', 'bind', '--agent', name, '--workdir', workdir]);
    }
    await box.start(['gateway', 'start', '--port', '0', '--concurrency', '4', '--json']).ready();
    events = box.start(['events', 'stream', '--since', '0', '--json']);
    ownerId = (await box.json<{ principal: { id: string } }>(['whoami'])).principal.id;
    // Five agents, each created, connected and bound by the CLI: a dozen processes on a busy machine.
  }, 120_000);
  afterAll(() => box.cleanup());

  const activity = (type: string): ActivityEvent[] =>
    events.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ActivityEvent)
      .filter((e) => e.type === type);
  const runsOf = (chainId: string) =>
    box.json<Assignment[]>(['assignments', 'list', '--chain', chainId, '--limit', '1000']);
  const chain = (id: string) => box.json<Chain>(['chains', 'show', id]);
  /** Resolves once the chain has been still (every run ended, nothing new) for a while. */
  const quiet = async (chainId: string, stillMs = 3000, timeoutMs = 90_000) => {
    const until = Date.now() + timeoutMs;
    let last = -1;
    let since = Date.now();
    for (;;) {
      const runs = await runsOf(chainId);
      const done = runs.every((r) => isTerminal(r.state));
      if (runs.length !== last || !done) {
        last = runs.length;
        since = Date.now();
      } else if (Date.now() - since >= stillMs) return runs;
      if (Date.now() > until) throw new Error(`chain ${chainId} did not go quiet: ${runs.length} runs`);
      await sleep(250);
    }
  };
  const limitNote = (chainId: string) =>
    eventually(async () => {
      const inbox = await box.json<{ messages: Message[] }>(['inbox']);
      return inbox.messages.find(
        (m) => (m.metadata.chainLimit as { chainId?: string } | undefined)?.chainId === chainId,
      );
    }, 30_000);

  it('the exact runaway: one request stays within the limits and the workspace goes quiet by itself', async () => {
    const request = (await box.json<{ message: Message }>(['send', '@planner please fix the login bug']))
      .message;
    const runs = await quiet(request.id);
    // planner 1 -> coder 2 -> planner 3 -> coder 4 -> planner 5 -> coder 6; "@planner done" at
    // depth 6 would run the planner 7 deep, past the default limit of 6.
    expect(runs).toHaveLength(6);
    expect(runs.map((r) => r.depth).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(runs.map((r) => r.chainId))).toEqual(new Set([request.id]));
    expect(runs.every((r) => r.state === 'succeeded')).toBe(true);

    const limited = activity('chain.limit_reached').filter((e) => e.data.chainId === request.id);
    expect(limited).toHaveLength(1);
    expect(limited[0]?.data).toMatchObject({
      limit: 'depth',
      agent: { name: 'planner' },
      depth: 7,
      maxDepth: 6,
      maxRuns: 24,
    });
    const note = await limitNote(request.id);
    expect(note.author.name).toBe('coder');
    expect(note.mentions.map((p) => p.id)).toEqual([ownerId]);
    expect(note.body).toContain(
      `To let it go on: gantry chains continue ${request.id}; to leave it stopped: gantry chains dismiss ${request.id}`,
    );
    expect(note.chainId).toBe(request.id);

    // Nothing else runs anywhere: no queued or running assignment is left in the workspace.
    await sleep(1500);
    const all = await box.json<Assignment[]>(['assignments', 'list', '--limit', '1000']);
    expect(all.filter((a) => !isTerminal(a.state))).toEqual([]);

    const tree = await chain(request.id);
    expect(tree).toMatchObject({ root: { kind: 'message' }, person: { id: ownerId }, maxDepth: 6 });
    expect(tree.stopped).toMatchObject([{ agent: { name: 'planner' }, depth: 7 }]);
    // Who triggered whom: each run but the first was started by the one before it.
    const byId = new Map(tree.runs.map((r) => [r.id, r]));
    for (const run of tree.runs) {
      if (run.depth === 1) expect(run.causeId).toBeNull();
      else expect(byId.get(run.causeId ?? '')?.depth).toBe(run.depth - 1);
    }
    const printed = await box.run(['chains', 'show', request.id]);
    expect(printed.stdout).toContain('stopped: planner at depth 7');
  }, 180_000);

  it("raises the runs of one request, stops a run's own handoff at once with chain_limit, and goes on when continued", async () => {
    const request = (
      await box.json<{ message: Message }>(['send', '@planner fix the signup bug', '--chain-max-runs', '3'])
    ).message;
    const runs = await quiet(request.id);
    // planner 1, coder 2, planner 3; planner 3's handoff is answered chain_limit at once.
    expect(runs.map((r) => `${r.agent.name}:${r.depth}`).sort()).toEqual([
      'coder:2',
      'planner:1',
      'planner:3',
    ]);
    const third = runs.find((r) => r.depth === 3);
    expect(third?.result?.output).toContain('chain_limit');
    const limited = activity('chain.limit_reached').filter((e) => e.data.chainId === request.id);
    expect(limited).toHaveLength(1);
    expect(limited[0]?.data).toMatchObject({ limit: 'runs', agent: { name: 'coder' }, maxRuns: 3 });

    // A run may not raise its own chain's limit; the person who started it may let it go on.
    const continued = await box.json<Chain>(['chains', 'continue', request.id, '--runs', '1']);
    expect(continued.maxRuns).toBe(4);
    const more = await quiet(request.id);
    expect(more.map((r) => `${r.agent.name}:${r.depth}`).sort()).toEqual([
      'coder:2',
      'coder:4',
      'planner:1',
      'planner:3',
    ]);
    await eventually(async () => {
      const all = activity('chain.limit_reached').filter((e) => e.data.chainId === request.id);
      return all.length === 2 ? all : undefined;
    });
    expect((await chain(request.id)).stopped).toMatchObject([{ agent: { name: 'planner' }, depth: 5 }]);
  }, 180_000);

  it("gives a run a token of its own: it speaks as its agent in its run's chain, and is useless after", async () => {
    const done = await box.json<Assignment>(['assign', 'keeper', 'keep it', '--wait', '30s']);
    expect(done.state).toBe('succeeded');
    const token = readFileSync(join(box.home, 'kept-token'), 'utf8').trim();
    expect(token).toMatch(/^gnt_r_/);
    const whoami = JSON.parse(readFileSync(join(box.home, 'kept-whoami.json'), 'utf8')) as {
      principal: { kind: string; name: string };
    };
    expect(whoami.principal).toMatchObject({ kind: 'agent', name: 'keeper' });
    // Scoped to its agent: what only a person may do is refused.
    expect(readFileSync(join(box.home, 'kept-users'), 'utf8').trim()).not.toBe('users exit 0');
    const sent = (JSON.parse(readFileSync(join(box.home, 'kept-send.json'), 'utf8')) as { message: Message })
      .message;
    expect(sent).toMatchObject({ author: { name: 'keeper' }, chainId: done.chainId, depth: 1 });
    expect(done).toMatchObject({ chainId: done.id, depth: 1 });

    const after = await box.run(['whoami'], { GANTRY_TOKEN: token, GANTRY_HUB_URL: hubUrl });
    expect(after.code).toBe(4);
    expect(after.stderr).not.toContain(token);
    const tokens = await box.json<{ id: string }[]>(['tokens', 'list']);
    expect(tokens.map((t) => t.id)).not.toContain(token.split('.')[0]?.replace('gnt_r_', ''));
  }, 180_000);

  it('lets a run end without a reply: NO_REPLY, or a result event with reply false', async () => {
    for (const agent of ['quiet', 'silent']) {
      const message = (await box.json<{ message: Message }>(['send', `@${agent} fyi, the build is green`]))
        .message;
      const [run] = await eventually(async () => {
        const runs = await runsOf(message.id);
        return runs.length === 1 && runs.every((r) => isTerminal(r.state)) ? runs : undefined;
      }, 30_000);
      expect(run?.state).toBe('succeeded');
      await sleep(1000);
      const thread = await box.json<Message[]>(['messages', 'list', '--thread', message.id]);
      expect(thread.map((m) => m.id)).toEqual([message.id]);
    }
  }, 180_000);

  it('keeps a chain and its limits across a hub restart', async () => {
    writeFileSync(join(box.home, 'slow'), '');
    const request = (await box.json<{ message: Message }>(['send', '@planner fix the logout bug, nowait']))
      .message;
    // The hub stops while the coder's first run goes on; its result arrives after the restart.
    await eventually(async () => {
      const runs = await runsOf(request.id);
      return runs.some((r) => r.agent.name === 'coder' && r.state === 'running') ? true : undefined;
    }, 60_000);
    await hub.stop();
    rmSync(join(box.home, 'slow'));
    const port = new URL(hubUrl).port;
    hub = box.start(['hub', 'start', '--port', port, '--json']);
    await hub.ready();
    const runs = await quiet(request.id);
    expect(runs).toHaveLength(6);
    expect(runs.map((r) => r.depth).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(runs.every((r) => r.state === 'succeeded')).toBe(true);
    expect((await chain(request.id)).stopped).toMatchObject([{ agent: { name: 'planner' }, depth: 7 }]);
    await limitNote(request.id);
  }, 180_000);
});

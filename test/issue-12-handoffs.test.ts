// Issue 12, handoffs that never deadlock: a planner run on one gateway hands work to a coder on the
// same gateway. Bound to no folder, each agent runs in its own (0700) and the handoff is answered
// promptly; bound on purpose to one folder, the handoff answers `would_deadlock` at once.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, Handoff } from '@gantry/protocol';
import { cliPath, Sandbox } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

/**
 * A run's script that hands `PLAN: ...` work to `coder` with the CLI, as the agent (its key from
 * GANTRY_TOKEN_FILE), and keeps the handoff's JSON answer and exit code; anything else is noted.
 */
function plannerScript(box: Sandbox, out: string): string {
  return box.script(
    'planner.sh',
    `case "$1" in
  *PLAN:*)
    GANTRY_TOKEN=$(cat "$GANTRY_TOKEN_FILE") "${process.execPath}" "${cliPath}" handoff coder "write the code" --timeout 20s --json > "${out}/$GANTRY_ASSIGNMENT_ID.json" 2> "${out}/$GANTRY_ASSIGNMENT_ID.err"
    echo "handoff exit $?" ;;
  *ASSIGN:*)
    GANTRY_TOKEN=$(cat "$GANTRY_TOKEN_FILE") "${process.execPath}" "${cliPath}" assign coder "write the code" --wait 20s > "${out}/$GANTRY_ASSIGNMENT_ID.json" 2> "${out}/$GANTRY_ASSIGNMENT_ID.err"
    echo "assign exit $?" ;;
  *) echo noted ;;
esac`,
  );
}

async function setUp(box: Sandbox, bindOneFolder: boolean) {
  // A depth of 2 keeps the agents' replies to each other from going on for long.
  const { ready } = await startHub(box, ['--mention-hop-limit', '2']);
  const planner = await createAgent(box, 'planner');
  const coder = await createAgent(box, 'coder');
  const out = join(box.home, 'out');
  const bin = plannerScript(box, out);
  mkdirSync(out, { recursive: true });
  const connect = async (key: string, provider: string, extra: string[] = []) =>
    box.run([
      'gateway',
      'connect',
      '--server-url',
      ready.url,
      '--provider',
      provider,
      ...extra,
      '--api-key',
      key,
    ]);
  const first = await connect(planner.key, 'generic', ['--provider-bin', bin]);
  const second = await connect(coder.key, 'echo');
  if (bindOneFolder) {
    for (const agent of ['planner', 'coder'])
      expect((await box.run(['gateway', 'bind', '--agent', agent, '--workdir', box.home])).code).toBe(0);
  }
  await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
  return { ready, out, first, second };
}

async function plan(box: Sandbox, out: string, prompt = 'PLAN: the login fix') {
  const started = Date.now();
  const run = await box.run(
    ['assign', 'planner', prompt, '--wait', '40s', '--json'],
    {},
    {
      timeoutMs: 60_000,
    },
  );
  const took = Date.now() - started;
  expect(run.code, run.stderr).toBe(0);
  const done = JSON.parse(run.stdout) as Assignment;
  const answer = readFileSync(join(out, `${done.id}.json`), 'utf8');
  const stderr = readFileSync(join(out, `${done.id}.err`), 'utf8');
  return { done, answer, stderr, took };
}

describe('two agents on one gateway and no folders', () => {
  const box = new Sandbox();
  let setup: Awaited<ReturnType<typeof setUp>>;

  beforeAll(async () => {
    setup = await setUp(box, false);
  }, 60_000);
  afterAll(() => box.cleanup());

  it('runs each agent in its own folder (0700), and gateway connect says which', () => {
    const root = join(box.home, 'workspaces');
    expect(setup.first.stdout).toContain(`Folder: planner runs in ${join(root, 'planner')}`);
    expect(setup.second.stdout).toContain(`Folder: coder runs in ${join(root, 'coder')}`);
    for (const name of ['planner', 'coder']) {
      const mode = statSync(join(root, name)).mode & 0o777;
      expect(mode.toString(8)).toBe('700');
    }
  });

  it('answers the handoff made inside a run, promptly', async () => {
    const { done, answer, took } = await plan(box, setup.out);
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { output: expect.stringContaining('handoff exit 0') },
    });
    const handoff = JSON.parse(answer) as Handoff;
    expect(handoff).toMatchObject({ status: 'replied', agent: { name: 'coder' } });
    expect(handoff.reply?.body).toContain('write the code');
    // Not the handoff's 20 s timeout, nor a folder's wait: a few process start-ups on a busy machine.
    expect(took).toBeLessThan(15_000);
  }, 60_000);
});

describe('two agents bound on purpose to one folder', () => {
  const box = new Sandbox();
  let setup: Awaited<ReturnType<typeof setUp>>;

  beforeAll(async () => {
    setup = await setUp(box, true);
  }, 60_000);
  afterAll(() => box.cleanup());

  it('gateway status warns that they share it', async () => {
    const status = await box.run(['gateway', 'status']);
    expect(status.stdout).toMatch(/Warning +planner, coder share the folder .*would_deadlock/);
  });

  it('answers a handoff made inside a run would_deadlock at once, with the reason and exit 1', async () => {
    const { done, answer, stderr, took } = await plan(box, setup.out);
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { output: expect.stringContaining('handoff exit 1') },
    });
    const handoff = JSON.parse(answer) as Handoff;
    expect(handoff).toMatchObject({ status: 'would_deadlock', agent: { name: 'coder' }, reply: null });
    expect(handoff.reason).toContain(`coder runs only in ${box.home} on gateway`);
    expect(handoff.reason).toContain('held by the asking run');
    expect(stderr).toContain('would_deadlock: coder runs only in');
    // Not the handoff's 20 s timeout.
    expect(took).toBeLessThan(15_000);
    // The work waits its turn: the coder takes it once the planner's run has ended.
    const task = await box.json<{ status: string }>(['tasks', 'show', handoff.taskId as string]);
    expect(task.status).not.toBe('cancelled');
  }, 60_000);

  it('refuses a waiting assign made inside a run (would_deadlock, exit 1), and creates nothing', async () => {
    const before = await box.json<unknown[]>(['assignments', 'list', '--agent', 'coder']);
    const { done, stderr, took } = await plan(box, setup.out, 'ASSIGN: the login fix');
    expect(done.result?.output).toContain('assign exit 1');
    expect(stderr).toMatch(/^gantry: would_deadlock: coder runs only in .* assign without --wait/m);
    expect(took).toBeLessThan(15_000);
    expect(await box.json<unknown[]>(['assignments', 'list', '--agent', 'coder'])).toHaveLength(
      before.length,
    );
  }, 60_000);
});

describe('a handoff hands the target its task', () => {
  const box = new Sandbox();

  beforeAll(async () => {
    const { ready } = await startHub(box);
    const counts = join(box.home, 'counts');
    mkdirSync(counts);
    // Says which task and session it runs in; keeps the promise from its second round on only if told to.
    const script = (name: string, keeps: boolean) =>
      box.script(
        `${name}.sh`,
        `f=${counts}/$GANTRY_TASK_ID; n=$(( $(cat $f 2>/dev/null || echo 0) + 1 )); echo $n > $f
echo "round $n task=$GANTRY_TASK_ID key=$GANTRY_SESSION_KEY"
${keeps ? 'if [ $n -ge 2 ]; then echo "<promise>SHIPPED</promise>"; fi' : ''}`,
      );
    for (const [name, keeps] of [
      ['stubborn', false],
      ['finisher', true],
    ] as const) {
      const agent = await createAgent(box, name);
      const bin = script(name, keeps);
      await box.json([
        'gateway',
        'connect',
        '--server-url',
        ready.url,
        '--provider',
        'generic',
        '--provider-bin',
        bin,
        '--api-key',
        agent.key,
      ]);
    }
    await box.start(['gateway', 'start', '--port', '0', '--json']).ready();
  }, 60_000);
  afterAll(() => box.cleanup());

  async function loop(agent: string) {
    const run = await box.run(
      [
        'handoff',
        agent,
        'ship the fix',
        '--loop',
        '--max-rounds',
        '2',
        '--completion-promise',
        'SHIPPED',
        '--timeout',
        '40s',
        '--json',
      ],
      {},
      { timeoutMs: 60_000 },
    );
    const handoff = JSON.parse(run.stdout) as Handoff;
    const runs = (await box.json<Assignment[]>(['assignments', 'list', '--agent', agent])).reverse();
    const task = await box.json<{ status: string; assignmentId: string | null }>([
      'tasks',
      'show',
      handoff.taskId as string,
    ]);
    return { code: run.code, handoff, runs, task };
  }

  it('every round of a loop runs on the task (GANTRY_TASK_ID, session task:<id>); a kept promise ends it done', async () => {
    const { code, handoff, runs, task } = await loop('finisher');
    expect(code).toBe(0);
    expect(handoff).toMatchObject({ status: 'loop_complete', rounds: 2 });
    const id = handoff.taskId as string;
    expect(runs.map((r) => r.sessionKey)).toEqual([`task:${id}`, `task:${id}`]);
    expect(runs.map((r) => r.result?.output)).toEqual([
      expect.stringContaining(`round 1 task=${id} key=task:${id}`),
      expect.stringContaining(`round 2 task=${id} key=task:${id}`),
    ]);
    expect(task).toMatchObject({ status: 'done', assignmentId: runs[1]?.id });
  }, 90_000);

  it('a loop that fails (no promise within its rounds) leaves the task blocked, not done', async () => {
    const { code, handoff, runs, task } = await loop('stubborn');
    expect(code).toBe(1);
    expect(handoff).toMatchObject({ status: 'loop_max_rounds', rounds: 2 });
    expect(runs.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    expect(task.status).toBe('blocked');
  }, 90_000);
});

// Chains from the CLI, where a user looks for them: `gantry chains list` shows by default the chains
// stopped at a limit (what waits on you), `--state all` every chain; `gantry chains dismiss` leaves
// a stopped chain stopped and off that list. Against a real hub: a person's message that asks two
// agents in a chain allowed one run stops at the second (no gateway needed: the first run waits).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Chain, ChainSummary, Message } from '@gantry/protocol';
import { eventually, Sandbox } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

describe('gantry chains list and dismiss', () => {
  const box = new Sandbox();
  let hubUrl: string;
  let agentKey: string;
  let miaToken: string;

  beforeAll(async () => {
    hubUrl = (await startHub(box)).ready.url;
    agentKey = (await createAgent(box, 'writer')).key;
    await createAgent(box, 'checker');
    miaToken = (await box.json<{ token: string }>(['users', 'add', 'mia', '--role', 'member'])).token;
  }, 60_000);
  afterAll(() => box.cleanup());

  const stopped = () => box.json<ChainSummary[]>(['chains', 'list']);

  it('lists nothing stopped at first, and says where every chain is', async () => {
    const none = await box.run(['chains', 'list']);
    expect(none).toMatchObject({ code: 0, stderr: '' });
    expect(none.stdout.trim()).toBe(
      'No chain is stopped at its limit. Every chain: gantry chains list --state all',
    );
    expect((await box.run(['chains', 'list', '--state', 'all'])).stdout).toContain('No chains yet');
    expect(await stopped()).toEqual([]);
    const wrong = await box.run(['chains', 'list', '--state', 'running']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Allowed choices are stopped, all');
  }, 60_000);

  it('shows a stopped chain by default (state, starter, runs, depth, age, what started it); dismiss takes it off', async () => {
    const body = '@writer @checker compare the release notes';
    const sent = await box.json<{ message: Message }>(['send', body, '--chain-max-runs', '1']);
    const id = sent.message.id;
    const [chain] = await eventually(async () => {
      const list = await stopped();
      return list.length === 1 ? list : undefined;
    });
    expect(chain).toMatchObject({
      id,
      person: { name: 'owner' },
      head: body,
      runs: 1,
      maxRuns: 1,
      depth: 1,
      active: 1,
      held: 1,
      stop: { limit: 'runs', waiting: 1 },
    });
    const notRun = chain?.stop?.agent.name;
    expect(['writer', 'checker']).toContain(notRun);

    // A chain that is not stopped is listed with --state all only.
    const other = await box.json<{ id: string }>(['assign', 'writer', 'something else']);
    const printed = await box.run(['chains', 'list']);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID +STATE +STARTER +RUNS +DEPTH +AGE +STARTED WITH$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${id} +stopped at runs limit \\(${notRun} not run, 1 waiting\\) +owner +1/1 +1/6 +\\S+ +${body}$`,
      ),
    );
    expect(printed.stdout).not.toContain(other.id);
    expect(printed.stdout).toContain('gantry chains dismiss ID');
    const all = await box.run(['chains', 'list', '--state', 'all']);
    // Newest first: the assignment's chain, a run waiting for a gateway (active), then the stopped one.
    expect(all.stdout.split('\n')[1]).toMatch(
      new RegExp(`^${other.id} +active +owner +1/24 +1/6 +\\S+ +something else$`),
    );
    expect(all.stdout.split('\n')[2]).toContain(`${id}  stopped at runs limit`);

    expect((await box.run(['chains', 'show', id])).stdout).toContain(
      `Waiting on a person: gantry chains continue ${id} [--runs N] lets it go on, gantry chains dismiss ${id} leaves it stopped`,
    );
    const dismissed = await box.run(['chains', 'dismiss', id]);
    expect(dismissed).toMatchObject({ code: 0, stderr: '' });
    expect(dismissed.stdout.trim()).toBe(
      `Chain ${id} waits on nobody now; its 1 stopped trigger(s) stay stopped (gantry chains continue ${id} runs them)`,
    );
    expect(await stopped()).toEqual([]);
    // Still there, no longer stopped; dismissing again changes nothing.
    const after = await box.json<ChainSummary[]>(['chains', 'list', '--state', 'all']);
    expect(after.find((c) => c.id === id)).toMatchObject({ stop: null, runs: 1, held: 1 });
    expect((await box.run(['chains', 'list', '--state', 'all'])).stdout).toMatch(
      new RegExp(`\\n${id} +dismissed \\(1 not run\\) +owner`),
    );
    const again = await box.json<Chain>(['chains', 'dismiss', id]);
    expect(again).toMatchObject({ id, stopped: [{ agent: { name: notRun } }], stoppedAt: null });
    const tree = (await box.run(['chains', 'show', id])).stdout;
    expect(tree).toContain(`Let it go on: gantry chains continue ${id} [--runs N]`);
    expect(tree).not.toContain('Waiting on a person');
  }, 60_000);

  it("says why not: an unknown chain (exit 3), another person's chain (exit 3), an agent key (exit 4)", async () => {
    const unknown = await box.run(['chains', 'dismiss', 'msg_none']);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.trim()).toBe(
      'gantry: no chain msg_none of yours (see `gantry chains list --state all`)',
    );
    const asJson = await box.run(['chains', 'dismiss', 'msg_none', '--json']);
    expect(asJson.code).toBe(3);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'not_found' } });

    // A member sees and decides only the chains they started.
    const [theirs] = await box.json<ChainSummary[]>(['chains', 'list', '--state', 'all']);
    const mia = { GANTRY_TOKEN: miaToken, GANTRY_HUB_URL: hubUrl };
    expect(await box.json<ChainSummary[]>(['chains', 'list', '--state', 'all'], mia)).toEqual([]);
    const refused = await box.run(['chains', 'dismiss', theirs?.id ?? ''], mia);
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim()).toBe(
      `gantry: no chain ${theirs?.id} of yours (see \`gantry chains list --state all\`)`,
    );

    const agent = { GANTRY_TOKEN: agentKey, GANTRY_HUB_URL: hubUrl };
    for (const args of [
      ['chains', 'list'],
      ['chains', 'dismiss', theirs?.id ?? ''],
      ['chains', 'dismiss', 'msg_none'],
    ]) {
      const res = await box.run(args, agent);
      expect(res.code, args.join(' ')).toBe(4);
      expect(res.stderr.trim()).toBe(
        'gantry: chains are for people only: sign in as a user, not with an agent key',
      );
    }
  }, 60_000);
});

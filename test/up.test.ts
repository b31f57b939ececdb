// `gantry up` in one shell, then the commands a user runs from another: an echo round trip and every error they can hit.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment, AssignmentEvent } from '@gantry/protocol';
import { Sandbox, type Service } from './harness.ts';

describe('gantry up', () => {
  const box = new Sandbox();
  let up: Service;
  let ready: { hub: { url: string }; gateway: { id: string; localApiUrl: string } };

  beforeAll(async () => {
    up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
    ready = await up.ready();
  });
  afterAll(() => box.cleanup());

  it('logs the CLI in as the owner, for other shells', async () => {
    const me = await box.json<{ principal: { kind: string; name: string }; hub: { url: string } }>([
      'whoami',
    ]);
    expect(me.principal).toMatchObject({ kind: 'user', name: 'owner' });
    expect(me.hub.url).toBe(ready.hub.url);
  });

  it('takes the shared options before the command too: gantry --hub URL --json whoami', async () => {
    const before = await box.run(['--hub', ready.hub.url, '--json', 'whoami']);
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({
      principal: { name: 'owner' },
      hub: { url: ready.hub.url },
    });
    const dead = await box.run(['--hub', 'http://127.0.0.1:9', 'whoami']);
    expect(dead.code).toBe(5);
    expect(dead.stderr).toMatch(/cannot reach the hub at http:\/\/127\.0\.0\.1:9/);
  });

  it('says it is already running when started again from the same home, and starts nothing', async () => {
    const again = await box.run(['up', '--port', '0', '--gateway-port', '0']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(
      /^gantry: Gantry is already running from .* \(gateway pid \d+, hub http:\/\/127\.0\.0\.1:\d+\)/,
    );
    expect(again.stderr).toContain('gantry assign echo hi --wait');
    // The running one goes on serving.
    const done = await box.json<Assignment>(['assign', 'echo', 'still', 'here', '--wait']);
    expect(done.result?.output).toBe('echo: still here');
  });

  it('runs an echo assignment end to end', async () => {
    const done = await box.json<Assignment>(['assign', 'echo', 'hello there', '--wait']);
    expect(done).toMatchObject({
      state: 'succeeded',
      attempt: 1,
      sessionKey: 'default',
      agent: { name: 'echo' },
    });
    expect(done.result).toEqual({ output: 'echo: hello there', exitCode: 0 });
    expect(done.gatewayId).toBe(ready.gateway.id);

    const events = await box.json<AssignmentEvent[]>(['assignments', 'events', done.id]);
    expect(events.map((e) => [e.attempt, e.seq, e.type])).toEqual([[1, 1, 'message']]);

    const listed = await box.json<Assignment[]>(['assignments', 'list', '--agent', 'echo']);
    expect(listed.map((a) => a.id)).toContain(done.id);
    const shown = await box.run(['assignments', 'show', done.id]);
    expect(shown.stdout).toContain('succeeded');
    // Its gateway goes by its name as well as its id.
    expect(shown.stdout).toMatch(new RegExp(`^Gateway +\\S+ \\(${ready.gateway.id}\\)$`, 'm'));
  });

  it('prints the assignment and returns without --wait', async () => {
    const created = await box.json<Assignment>(['assign', 'echo', 'later']);
    expect(['queued', 'offered', 'starting', 'running', 'succeeded']).toContain(created.state);
    const text = await box.run(['assign', 'echo', 'text']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^asg_\S+ queued for echo/);
  });

  it('says why a wait ran out on a queued assignment: its agent is paused, or nothing serves it', async () => {
    expect((await box.run(['agents', 'pause', 'echo'])).code).toBe(0);
    const paused = await box.run(['assign', 'echo', 'held', '--wait', '1s']);
    expect(paused.code).toBe(124);
    expect(paused.stderr).toMatch(
      /is still queued after 1\.0s; echo is paused: it runs once resumed \(gantry agents resume echo/,
    );
    expect((await box.run(['agents', 'resume', 'echo'])).code).toBe(0);
    expect((await box.run(['agents', 'create', 'idle-one'])).code).toBe(0);
    const unserved = await box.run(['assign', 'idle-one', 'anyone?', '--wait', '1s']);
    expect(unserved.code).toBe(124);
    expect(unserved.stderr).toContain('no gateway serves idle-one: serve it from a machine');
  });

  it('refuses a name the hub would refuse (agent, user, workspace), before asking it, with one it would take', async () => {
    const bad = await box.run(['agents', 'create', 'Code Reviewer']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "gantry: invalid agent name 'Code Reviewer': lower-case letters, digits, . _ - (up to 63, starting with a letter or digit), like 'code-reviewer'\n",
    );
    expect((await box.run(['agents', 'create', 'code-reviewer'])).code).toBe(0);
    const user = await box.run(['users', 'add', 'Jane Doe']);
    expect([user.code, user.stderr]).toEqual([2, expect.stringContaining("invalid user handle 'Jane Doe'")]);
    expect(user.stderr).toContain("like 'jane-doe'");
    const workspace = await box.run(['workspaces', 'create', 'My Team!']);
    expect([workspace.code, workspace.stderr]).toEqual([2, expect.stringContaining("like 'my-team'")]);
  });

  it('refuses an empty prompt, message or task title before asking the hub, saying what to write', async () => {
    const prompt = await box.run(['assign', 'echo', '']);
    expect([prompt.code, prompt.stderr]).toEqual([
      2,
      'gantry: the prompt is empty: say what echo should do, like: gantry assign echo "fix the failing test"\n',
    ]);
    const message = await box.run(['send', '  ']);
    expect([message.code, message.stderr]).toEqual([
      2,
      expect.stringMatching(/^gantry: the message is empty: /),
    ]);
    const task = await box.run(['tasks', 'create', '']);
    expect([task.code, task.stderr]).toEqual([2, expect.stringMatching(/^gantry: the title is empty: /)]);
    // Nothing reached the hub.
    expect(await box.json<unknown[]>(['tasks', 'list'])).toEqual([]);
  });

  it('refuses a token or agent key with a line break in it (two pasted together), never showing it', async () => {
    const twice = 'gnt_u_tok_pasted.secretpart\ngnt_u_tok_pasted.secretpart';
    const token = await box.run(['whoami'], { GANTRY_TOKEN: twice });
    expect([token.code, token.stderr]).toEqual([
      2,
      'gantry: the token has a space, a line break or a character no key has (two pasted together?): give exactly one (`gantry auth doctor` says where it came from)\n',
    ]);
    const key = await box.run(['gateway', 'connect', '--provider', 'echo'], {
      GANTRY_API_KEY: 'gnt_a_x.secretpart y',
    });
    expect([key.code, key.stderr]).toEqual([
      2,
      expect.stringMatching(/^gantry: the agent key has a space, /),
    ]);
    expect(key.stderr).not.toContain('secretpart');
  });

  it('shows the gateway as connected, from both sides', async () => {
    const status = await box.json<{ running: boolean; connected: boolean; outboxDepth: number }>([
      'gateway',
      'status',
    ]);
    expect(status).toMatchObject({ running: true, connected: true, outboxDepth: 0 });
    const gateways = await box.json<{ id: string; connected: boolean; agents: { name: string }[] }[]>([
      'gateways',
      'list',
    ]);
    expect(gateways).toEqual([expect.objectContaining({ id: ready.gateway.id, connected: true })]);
    expect(gateways[0]?.agents.map((a) => a.name)).toEqual(['echo']);
  });

  it('answers every user error with a message and an exit code, never a stack trace', async () => {
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [['assign', 'nobody', 'x'], {}, 3, /no agent named or with id 'nobody'/],
      [
        ['whoami'],
        { GANTRY_TOKEN: 'gnt_u_tok_0000000000.aaaaaaaaaaaaaaaaaaaaaaaa' },
        4,
        /unknown or revoked token/,
      ],
      [
        ['whoami'],
        { GANTRY_HUB_URL: 'http://127.0.0.1:9' },
        5,
        /cannot reach the hub at http:\/\/127\.0\.0\.1:9/,
      ],
      [['assignments', 'show', 'asg_nope'], {}, 3, /no assignment asg_nope/],
      [['assign', 'echo', 'x', '--timeout', 'soon'], {}, 2, /invalid --timeout 'soon'/],
      [['assignments', 'list', '--state', 'bogus'], {}, 2, /state/],
      [['no-such-command'], {}, 2, /unknown command/],
      // Not a folder named `mysql:` with a SQLite file in it.
      [
        ['hub', 'start', '--port', '0', '--db', 'mysql://root@127.0.0.1/gantry'],
        {},
        2,
        /--db \(or GANTRY_DATABASE_URL\) takes a PostgreSQL URL .* not a mysql:\/\/ URL/,
      ],
    ];
    for (const [args, env, code, message] of cases) {
      const result = await box.run(args, env);
      expect({ args, code: result.code }).toEqual({ args, code });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('logs in with a token piped on standard input, and refuses a wrong one', async () => {
    const token = readFileSync(join(box.home, 'data', 'owner.token'), 'utf8').trim();
    const other = new Sandbox();
    try {
      const ok = await other.run(['login', '--url', ready.hub.url], {}, { input: `${token}\n` });
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('Logged in');
      expect(statSync(join(other.home, 'config', 'user.json')).mode & 0o777).toBe(0o600);
      expect((await other.json<{ principal: { name: string } }>(['whoami'])).principal.name).toBe('owner');
      const bad = await other.run(
        ['login', '--url', ready.hub.url],
        {},
        { input: 'gnt_u_tok_0000000000.zzzzzzzzzzzzzzzzzzzzzzzz\n' },
      );
      expect(bad.code).toBe(4);
      const none = await other.run(['login', '--url', ready.hub.url], {}, { input: '' });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('no token given');
    } finally {
      await other.cleanup();
    }
  });

  it('prints errors as JSON with --json', async () => {
    const result = await box.run(['assign', 'nobody', 'x', '--json']);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout)).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it('stops cleanly on SIGINT', async () => {
    expect(await up.stop('SIGINT')).toBe(0);
    const status = await box.run(['gateway', 'status', '--json']);
    expect(status.code).toBe(3); // not running
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false });
  });
});

describe('gantry --version', () => {
  it('prints the version', async () => {
    const box = new Sandbox();
    const result = await box.run(['--version']);
    await box.cleanup();
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('gantry up, again', () => {
  it('serves again after a restart, and after its hub database was replaced', async () => {
    const box = new Sandbox();
    try {
      const once = async () => {
        const up = box.start(['up', '--port', '0', '--gateway-port', '0', '--json']);
        await up.ready();
        const done = await box.json<Assignment>(['assign', 'echo', 'again', '--wait']);
        expect(done.result?.output).toBe('echo: again');
        expect(await up.stop('SIGINT')).toBe(0);
      };
      await once();
      await once();
      for (const file of readdirSync(join(box.home, 'data')).filter(
        (f) => f.startsWith('hub.db') || f === 'owner.token',
      )) {
        rmSync(join(box.home, 'data', file));
      }
      await once();
    } finally {
      await box.cleanup();
    }
  });
});

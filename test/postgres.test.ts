// A hub on the machine's PostgreSQL: an assignment completes end to end, and everything is still there after a restart.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { Sandbox } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';
import { postgresAdmin, postgresServer } from './postgres-admin.ts';

const database = `gantry_e2e_${randomBytes(6).toString('hex')}`;

describe('hub on PostgreSQL', () => {
  const box = new Sandbox();
  const url = `${postgresServer}/${database}`;

  beforeAll(() => postgresAdmin(`CREATE DATABASE ${database}`));
  afterAll(async () => {
    await box.cleanup();
    await postgresAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('completes an assignment and keeps it across a hub restart', async () => {
    const { hub, ready } = await startHub(box, ['--db', url]);
    const health = (await (await fetch(`${ready.url}/v1/health`)).json()) as { store: string };
    expect(health.store).toBe('postgres');

    const agent = await createAgent(box, 'pg-echo');
    const gateway = box.start(
      ['gateway', 'run', '--server-url', ready.url, '--provider', 'echo', '--port', '0', '--json'],
      {
        GANTRY_API_KEY: agent.key,
      },
    );
    await gateway.ready();
    const done = await box.json<Assignment>(['assign', 'pg-echo', 'from postgres', '--wait']);
    expect(done).toMatchObject({
      state: 'succeeded',
      result: { output: 'echo: from postgres', exitCode: 0 },
    });

    await hub.stop();
    // The same database, a new hub process (new port): the data and the owner's token still work.
    const again = box.start(['hub', 'start', '--port', '0', '--json', '--db', url]);
    const second = await again.ready<{ url: string; ownerToken?: string }>();
    expect(second.ownerToken).toBeUndefined();
    const shown = await box.json<Assignment>(['assignments', 'show', done.id, '--hub', second.url]);
    expect(shown.result?.output).toBe('echo: from postgres');
  });
});

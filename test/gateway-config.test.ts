// Issue 14, configuration: every gateway setting follows flags > environment > config file > the
// saved session > defaults; `--config` (and GANTRY_CONFIG) name the file; GANTRY_HUB_URL,
// GANTRY_GATEWAY_NAME, GANTRY_WORKSPACE_ROOT and GANTRY_GATEWAY_PORT work; the port chosen at
// `connect` is saved; `gantry config show` says where each value came from; `--hub` works for the
// gateway commands (with `--server-url` as its alias).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from './harness.ts';
import { createAgent, startHub } from './fixtures.ts';

let box: Sandbox;
afterEach(async () => {
  await box.run(['gateway', 'stop']);
  await box.cleanup();
});

interface Shown {
  configFile: string;
  settings: { key: string; value: unknown; source: string; from?: string }[];
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const setting = (shown: Shown, key: string) => shown.settings.find((s) => s.key === key);

describe('gantry config show', () => {
  it('prints each effective value and where it came from: flag > environment > file > default', async () => {
    box = new Sandbox();
    mkdirSync(join(box.home, 'config'), { recursive: true });
    writeFileSync(
      join(box.home, 'config', 'config.toml'),
      '[gateway]\nhub_url = "http://file:1"\ngateway_name = "from-file"\nport = 7600\nconcurrency = 2\napi_key = "gnt_a_x.secret"\n',
    );
    const shown = await box.json<Shown>(['config', 'show', '--port', '7700'], {
      GANTRY_HUB_URL: 'http://env:2',
      GANTRY_GATEWAY_NAME: 'from-env',
    });
    expect(shown.configFile).toBe(join(box.home, 'config', 'config.toml'));
    expect(setting(shown, 'hub_url')).toEqual({
      key: 'hub_url',
      value: 'http://env:2',
      source: 'environment',
      from: 'GANTRY_HUB_URL',
    });
    expect(setting(shown, 'gateway_name')).toMatchObject({ value: 'from-env', source: 'environment' });
    expect(setting(shown, 'port')).toMatchObject({ value: '7700', source: 'flag', from: '--port' });
    expect(setting(shown, 'concurrency')).toMatchObject({ value: 2, source: 'file', from: 'concurrency' });
    expect(setting(shown, 'outbox_max_mb')).toMatchObject({ value: 512, source: 'default' });
    expect(setting(shown, 'api_key')).toMatchObject({ value: '(set)', source: 'file' });
    const flagged = await box.json<Shown>(['config', 'show', '--hub', 'http://flag:3'], {
      GANTRY_HUB_URL: 'http://env:2',
    });
    expect(setting(flagged, 'hub_url')).toMatchObject({ value: 'http://flag:3', source: 'flag' });

    // --config names another file; one that does not exist is an error, not silently ignored.
    const other = join(box.home, 'other.toml');
    writeFileSync(other, '[gateway]\nport = 7800\n');
    const named = await box.json<Shown>(['config', 'show', '--config', other]);
    expect(setting(named, 'port')).toMatchObject({ value: 7800, source: 'file' });
    expect(setting(named, 'hub_url')).toMatchObject({ value: null, source: 'unset' });
    const missing = await box.run(['config', 'show', '--config', join(box.home, 'nope.toml')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('nope.toml does not exist');
    const text = await box.run(['config', 'show']);
    expect(text.stdout).toMatch(/port\s+7600\s+file \(port\)/);
  });
});

describe('gateway settings from the environment, the saved session and --config', () => {
  it('connect takes --hub and GANTRY_* variables and saves its port; start and --config follow the precedence', async () => {
    box = new Sandbox();
    const { ready } = await startHub(box);
    const agent = await createAgent(box, 'worker');
    const [saved, fromFile, fromEnv] = [await freePort(), await freePort(), await freePort()];
    const root = join(box.home, 'root');
    mkdirSync(root);
    const connect = await box.run(
      ['gateway', 'connect', '--hub', ready.url, '--provider', 'echo', '--port', String(saved), '--json'],
      { GANTRY_API_KEY: agent.key, GANTRY_GATEWAY_NAME: 'env-gateway', GANTRY_WORKSPACE_ROOT: root },
    );
    expect(connect.code).toBe(0);
    expect(JSON.parse(connect.stdout)).toMatchObject({
      serverUrl: ready.url,
      gateway: { name: 'env-gateway' },
      workspaceRoot: root,
    });
    const shown = await box.json<Shown>(['config', 'show']);
    expect(setting(shown, 'port')).toMatchObject({ value: saved, source: 'session' });
    expect(setting(shown, 'gateway_name')).toMatchObject({ value: 'env-gateway', source: 'session' });

    // The port saved at connect.
    const localUrl = async () => (await box.json<{ localApiUrl: string }>(['gateway', 'status'])).localApiUrl;
    expect((await box.run(['gateway', 'start', '--detach'])).code).toBe(0);
    expect(await localUrl()).toBe(`http://127.0.0.1:${saved}`);
    await box.run(['gateway', 'stop']);

    // --config names the file: its port wins over the saved one; the environment over the file.
    const config = join(box.home, 'gateway.toml');
    writeFileSync(config, `[gateway]\nport = ${fromFile}\n`);
    expect((await box.run(['gateway', 'start', '--detach', '--config', config])).code).toBe(0);
    expect(await localUrl()).toBe(`http://127.0.0.1:${fromFile}`);
    await box.run(['gateway', 'stop']);
    const started = await box.run(['gateway', 'start', '--detach', '--config', config], {
      GANTRY_GATEWAY_PORT: String(fromEnv),
    });
    expect(started.code).toBe(0);
    expect(await localUrl()).toBe(`http://127.0.0.1:${fromEnv}`);
    // `restart` keeps what it was started with, without the variable.
    expect((await box.run(['gateway', 'restart'])).code).toBe(0);
    expect(await localUrl()).toBe(`http://127.0.0.1:${fromEnv}`);
  }, 90_000);
});

describe('gantry up', () => {
  it('takes its gateway port from --config, and GANTRY_GATEWAY_PORT over the file', async () => {
    box = new Sandbox();
    const [fromFile, fromEnv] = [await freePort(), await freePort()];
    const config = join(box.home, 'up.toml');
    writeFileSync(config, `[gateway]\nport = ${fromFile}\n`);
    const up = box.start(['up', '--port', '0', '--config', config, '--json']);
    const ready = await up.ready<{ gateway: { localApiUrl: string } }>();
    expect(ready.gateway.localApiUrl).toBe(`http://127.0.0.1:${fromFile}`);
    expect(await up.stop('SIGINT')).toBe(0);
    const again = box.start(['up', '--port', '0', '--config', config, '--json'], {
      GANTRY_GATEWAY_PORT: String(fromEnv),
    });
    expect((await again.ready<{ gateway: { localApiUrl: string } }>()).gateway.localApiUrl).toBe(
      `http://127.0.0.1:${fromEnv}`,
    );
  });
});

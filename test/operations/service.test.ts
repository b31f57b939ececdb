// `gantry gateway|hub service`: the units and plists it writes (checked by systemd-analyze and a
// plist parser), that --dry-run touches nothing and works before any connect, that no secret of
// the installing shell reaches a unit, and that without a service manager (systemd is not PID 1
// here) every command that needs one fails with one line and exit 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../harness.ts';

interface DryRun {
  files: { path: string; content: string }[];
}

const secrets = {
  GANTRY_TOKEN: 'gnt_u_tok1.supersecretuservalue',
  GANTRY_API_KEY: 'gnt_a_key1.supersecretagentvalue',
  OPENAI_API_KEY: 'sk-openai-secret-value-123',
  ANTHROPIC_API_KEY: 'sk-ant-secret-value-456',
  GANTRY_DATABASE_URL: 'postgres://hub:dbpassword@db.example:5432/gantry',
};

/** Writes the files into a folder and runs `systemd-analyze verify` on them: no complaint at all. */
function verify(box: Sandbox, files: DryRun['files']): void {
  const dir = join(box.home, `units-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const written = files.map((file) => {
    const path = join(dir, basename(file.path));
    writeFileSync(path, file.content);
    return path;
  });
  const ran = spawnSync('systemd-analyze', ['verify', ...written], { encoding: 'utf8' });
  expect(`${ran.stdout}${ran.stderr}`).toBe('');
  expect(ran.status).toBe(0);
}

describe('gantry gateway service', () => {
  const box = new Sandbox();
  const xdg = join(box.home, 'xdg');
  const env = { XDG_CONFIG_HOME: xdg, ...secrets };
  afterAll(() => box.cleanup());

  it('--dry-run --json prints a user unit, its watchdog service and timer, before any connect, touching nothing', async () => {
    const plan = await box.json<DryRun>(
      ['gateway', 'service', 'install', '--dry-run', '--platform', 'linux'],
      env,
    );
    const unitDir = join(xdg, 'systemd', 'user');
    expect(plan.files.map((f) => f.path)).toEqual([
      join(unitDir, 'gantry-gateway.service'),
      join(unitDir, 'gantry-gateway-watchdog.service'),
      join(unitDir, 'gantry-gateway-watchdog.timer'),
    ]);
    for (const file of plan.files) expect(Object.keys(file).sort()).toEqual(['content', 'path']);
    const [service, watchdog, timer] = plan.files.map((f) => f.content);
    expect(service).toMatch(/^ExecStart=\S+ \S+gantry\.js gateway start$/m);
    expect(service).toContain('\nKillMode=process\n');
    expect(service).toContain('\nRestart=on-failure\n');
    expect(service).toMatch(/^TimeoutStopSec=(\d+)s$/m);
    expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(service ?? '')?.[1])).toBeGreaterThanOrEqual(60);
    expect(service).toContain(`Environment=GANTRY_HOME=${box.home}\n`);
    expect(service).toContain('WantedBy=default.target');
    expect(service).not.toContain('User=');
    expect(watchdog).toMatch(/^ExecStart=\S+ \S+gantry\.js gateway watchdog --once$/m);
    expect(timer).toContain('Unit=gantry-gateway-watchdog.service');
    expect(timer).toContain('OnUnitActiveSec=1min');
    verify(box, plan.files);
    expect(existsSync(xdg)).toBe(false);
    expect(existsSync(join(box.home, 'config'))).toBe(false);
  });

  it('takes --port, --config and --gantry-bin into the units, and --system runs as this user', async () => {
    const bin = box.script('gantry-wrapper', 'exec gantry "$@"');
    const plan = await box.json<DryRun>(
      [
        'gateway',
        'service',
        'install',
        '--dry-run',
        '--system',
        '--port',
        '7555',
        '--config',
        'gw.toml',
        '--gantry-bin',
        bin,
      ],
      env,
    );
    expect(plan.files.map((f) => f.path)).toEqual([
      '/etc/systemd/system/gantry-gateway.service',
      '/etc/systemd/system/gantry-gateway-watchdog.service',
      '/etc/systemd/system/gantry-gateway-watchdog.timer',
    ]);
    const [service, watchdog] = plan.files.map((f) => f.content);
    expect(service).toContain(
      `ExecStart=${bin} gateway start --port 7555 --config ${join(process.cwd(), 'gw.toml')}\n`,
    );
    expect(watchdog).toContain(`ExecStart=${bin} gateway watchdog --once --port 7555 --config `);
    expect(service).toContain(`\nUser=${userInfo().username}\n`);
    expect(watchdog).toContain(`\nUser=${userInfo().username}\n`);
    expect(service).toContain('WantedBy=multi-user.target');
    verify(box, plan.files);
  });

  it('writes a hub unit the same way', async () => {
    const plan = await box.json<DryRun>(
      ['hub', 'service', 'install', '--dry-run', '--port', '7600', '--data-dir', 'hubdata'],
      env,
    );
    expect(plan.files.map((f) => basename(f.path))).toEqual(['gantry-hub.service']);
    expect(plan.files[0]?.content).toMatch(/gantry\.js hub start --port 7600 --data-dir \S+hubdata\n/);
    verify(box, plan.files);
  });

  it('keeps every secret of the installing shell out of the files', async () => {
    for (const args of [
      ['gateway', 'service', 'install', '--dry-run'],
      ['gateway', 'service', 'install', '--dry-run', '--system'],
      ['gateway', 'service', 'install', '--dry-run', '--platform', 'darwin'],
      ['hub', 'service', 'install', '--dry-run'],
    ]) {
      const plan = await box.json<DryRun>(args, env);
      for (const file of plan.files) {
        for (const value of Object.values(secrets)) expect(file.content).not.toContain(value);
        expect(file.content).not.toMatch(/gnt_[uag]_|dbpassword|API_KEY|GANTRY_TOKEN/);
      }
    }
  });

  it('--platform darwin prints LaunchAgent plists: restarted on failure, runs kept on stop, watchdog every minute', async () => {
    const plan = await box.json<DryRun>(
      ['gateway', 'service', 'install', '--dry-run', '--platform', 'darwin'],
      env,
    );
    expect(plan.files.map((f) => f.path)).toEqual([
      join(process.env.HOME ?? '', 'Library/LaunchAgents/dev.gantry.gateway.plist'),
      join(process.env.HOME ?? '', 'Library/LaunchAgents/dev.gantry.gateway-watchdog.plist'),
    ]);
    const parse = (xml: string) =>
      JSON.parse(
        execFileSync(
          'python3',
          ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
          {
            input: xml,
          },
        ).toString(),
      ) as Record<string, unknown>;
    const gateway = parse(plan.files[0]?.content ?? '');
    expect(gateway).toMatchObject({
      Label: 'dev.gantry.gateway',
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      AbandonProcessGroup: true,
      EnvironmentVariables: { GANTRY_HOME: box.home },
    });
    expect((gateway.ProgramArguments as string[]).slice(-2)).toEqual(['gateway', 'start']);
    expect(gateway).not.toHaveProperty('UserName');
    const watchdog = parse(plan.files[1]?.content ?? '');
    expect(watchdog).toMatchObject({ Label: 'dev.gantry.gateway-watchdog', StartInterval: 60 });
    expect((watchdog.ProgramArguments as string[]).slice(-3)).toEqual(['gateway', 'watchdog', '--once']);
  });

  it('warns when lingering is off, naming the command that turns it on', async () => {
    const bin = join(box.home, 'fakebin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'loginctl'), '#!/bin/sh\necho Linger=no\n', { mode: 0o755 });
    const user = userInfo().username;
    const ran = await box.run(['gateway', 'service', 'install', '--dry-run', '--json'], {
      ...env,
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    });
    expect(ran.code).toBe(0);
    expect(ran.stderr).toContain(`loginctl enable-linger ${user}`);
    expect(JSON.parse(ran.stdout)).toHaveProperty('files');
  });

  it('fails with one line and exit 1 when no service manager runs here, writing nothing', async () => {
    for (const args of [['install'], ['uninstall'], ['start'], ['stop'], ['restart'], ['status'], ['logs']]) {
      const ran = await box.run(['gateway', 'service', ...args], env);
      expect(ran.code, args.join(' ')).toBe(1);
      expect(ran.stderr.trim().split('\n')).toHaveLength(1);
      expect(ran.stderr).toMatch(/^gantry: cannot .*: systemd \(user\) is not available here \(.+\)/);
      expect(ran.stdout).toBe('');
    }
    const hub = await box.run(['hub', 'service', 'install'], env);
    expect(hub.code).toBe(1);
    expect(hub.stderr).toContain('systemd (user) is not available here');
    expect(existsSync(xdg)).toBe(false);
  });
});

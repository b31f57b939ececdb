/**
 * Drives the built `gantry` CLI as a user would: each sandbox is a temp GANTRY_HOME; commands run
 * as separate processes ("another shell"), and foreground services (up, hub start, gateway start)
 * run in the background until the test stops them. Everything listens on 127.0.0.1, port 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliPath = fileURLToPath(new URL('../packages/cli/bin/gantry.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Service {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  /** The first JSON line the service printed (its `--json` readiness line). */
  async ready<T = Record<string, unknown>>(timeoutMs = 20_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stdout.split('\n').find((l) => l.startsWith('{'));
      if (line) return JSON.parse(line) as T;
      if (this.proc.exitCode !== null)
        throw new Error(`service exited ${this.proc.exitCode}: ${this.stderr}`);
      if (Date.now() > until) throw new Error(`service not ready: ${this.stdout}\n${this.stderr}`);
      await sleep(25);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export class Sandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'gantry-test-'));
  private readonly services: Service[] = [];

  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GANTRY_HOME: this.home,
      GANTRY_LOG_LEVEL: 'warn',
      ...extra,
    };
    for (const name of ['GANTRY_TOKEN', 'GANTRY_HUB_URL', 'GANTRY_API_KEY', 'GANTRY_DATABASE_URL']) {
      if (!(name in extra)) delete env[name];
    }
    return env;
  }

  /** Runs one command to its end; `input` is piped to its standard input. */
  run(
    args: string[],
    extra: Record<string, string | undefined> = {},
    { input, timeoutMs = 30_000 }: { input?: string; timeoutMs?: number } = {},
  ): Promise<CliResult> {
    const proc = spawn(process.execPath, [cliPath, ...args], {
      env: this.env(extra),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    proc.stdin?.end(input);
    const service = new Service(proc);
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    return service.exited.then((code) => {
      clearTimeout(timer);
      return { code, stdout: service.stdout, stderr: service.stderr };
    });
  }

  /** Runs a command and parses its JSON output; fails the test with its stderr if it did not exit 0. */
  async json<T = Record<string, unknown>>(
    args: string[],
    extra: Record<string, string | undefined> = {},
  ): Promise<T> {
    const result = await this.run([...args, '--json'], extra);
    if (result.code !== 0)
      throw new Error(`gantry ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
    return JSON.parse(result.stdout) as T;
  }

  /** Starts a foreground service (stopped at cleanup). */
  start(args: string[], extra: Record<string, string | undefined> = {}): Service {
    const proc = spawn(process.execPath, [cliPath, ...args], {
      env: this.env(extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new Service(proc);
    this.services.push(service);
    return service;
  }

  /** Writes an executable shell script into the sandbox and returns its path. */
  script(name: string, body: string): string {
    const path = join(this.home, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** The first hub's registration in a machine's `gateway-session.json` (which lists one per hub). */
export function savedSession(home: string): unknown {
  const file = JSON.parse(readFileSync(join(home, 'config', 'gateway-session.json'), 'utf8')) as {
    hubs: unknown[];
  };
  return file.hubs[0];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `fn` returns a value that is not undefined. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(50);
  }
}

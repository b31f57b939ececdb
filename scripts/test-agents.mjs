#!/usr/bin/env node
/**
 * Installs the real agent CLIs the provider tests drive (test/agents/package.json, ~1 GB) into a
 * cache outside the checkout, once per version set, and prints where their binaries are.
 * `npm test` calls it on first use (vitest global setup); run it alone to warm the cache.
 *
 * Cache: $GANTRY_TEST_AGENTS_DIR, else $XDG_CACHE_HOME/gantry/test-agents, else ~/.cache/gantry/test-agents.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const manifest = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'agents', 'package.json');

export function testAgentsDir() {
  const base =
    process.env.GANTRY_TEST_AGENTS_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gantry', 'test-agents');
  const hash = createHash('sha256').update(readFileSync(manifest)).digest('hex').slice(0, 12);
  return join(base, hash);
}

/** Installs if needed; returns the binaries' paths. */
export function installTestAgents({ quiet = false } = {}) {
  const dir = testAgentsDir();
  const ready = join(dir, '.ready');
  if (!existsSync(ready)) {
    const staging = `${dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    copyFileSync(manifest, join(staging, 'package.json'));
    if (!quiet)
      process.stderr.write(`installing the agent CLIs for the provider tests into ${dir} (once; ~1 GB)\n`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], {
      cwd: staging,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(join(staging, '.ready'), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  const bin = (name) => join(dir, 'node_modules', '.bin', name);
  return { dir, codex: bin('codex'), claude: bin('claude'), claudeAcp: bin('claude-agent-acp') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(installTestAgents(), null, 2));
}

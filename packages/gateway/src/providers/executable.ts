/** Finds a provider's executable the way a shell would, and says how to fix it when it is missing. */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { ProviderCheck } from './provider.ts';

export function findExecutable(bin: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = bin.includes('/')
    ? [isAbsolute(bin) ? bin : resolve(bin)]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, bin));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/** `ok` with the full path, or what was tried and `fix`. */
export function binCheck(bin: string, fix: string): ProviderCheck {
  const found = findExecutable(bin);
  if (found) return { ok: true, detail: found };
  const where = bin.includes('/') ? `at ${isAbsolute(bin) ? bin : resolve(bin)}` : 'on PATH';
  return { ok: false, detail: `'${bin}' is not an executable file (looked ${where}): ${fix}` };
}

const versions = new Map<string, Promise<string | undefined>>();

/** The first line `bin --version` prints (cached per path), or undefined if it fails within 10 s. */
export function binVersion(path: string, env: Record<string, string> = {}): Promise<string | undefined> {
  let version = versions.get(path);
  if (!version) {
    version = new Promise((resolve) => {
      execFile(
        path,
        ['--version'],
        { timeout: 10_000, env: { ...env, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } },
        (err, stdout) => resolve(err ? undefined : stdout.trim().split('\n')[0]?.trim() || undefined),
      ).stdin?.end();
    });
    versions.set(path, version);
  }
  return version;
}

/** A check of a CLI provider: the binary found, and its version (a binary that cannot say it is broken). */
export async function cliCheck(bin: string, fix: string): Promise<ProviderCheck> {
  const found = binCheck(bin, fix);
  if (!found.ok) return found;
  const version = await binVersion(found.detail);
  if (!version) {
    versions.delete(found.detail);
    return { ok: false, detail: `${found.detail} did not answer --version: is it broken? ${fix}` };
  }
  return { ok: true, detail: found.detail, version };
}

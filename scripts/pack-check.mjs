// Fails when a packed tarball carries what must never ship: tests, test fixtures, .env files,
// logs, databases, keys or tokens (by name, and token-shaped secrets by content).
// Usage: node scripts/pack-check.mjs gantry-X.tgz   (exit 1 naming each offending entry)
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const forbiddenNames = [
  [/(^|\/)(test|tests|__tests__|fixtures?|fake-models)\//, 'a test or test fixture'],
  [/\.(test|spec)\.[cm]?[jt]sx?$/, 'a test'],
  [/(^|\/)\.env(\..*)?$/, 'a .env file'],
  [/\.log(\.\d+)?$/, 'a log'],
  [/\.(db|sqlite3?)(-wal|-shm|-journal)?$/, 'a database'],
  [/\.(pem|key|token)$/, 'a key or token'],
  [
    /(^|\/)(gateway-session|user|access-token|local-agents|watchdog-state|daemon)\.json$/,
    'a credential or state file',
  ],
  [/(^|\/)\.(npmrc|git|gantry)(\/|$)/, 'a config folder or file'],
];
/** A Gantry token or a private key in a file: the secret itself, not a pattern that describes one. */
const forbiddenContent = [
  [/gnt_[uagr]_[0-9a-z]{8,}\.[A-Za-z0-9_-]{20,}/, 'a Gantry token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
];

export function checkTarball(tarball) {
  const entries = execFileSync('tar', ['-tzf', tarball], { maxBuffer: 64 * 1024 * 1024 })
    .toString()
    .split('\n')
    .filter(Boolean);
  const problems = [];
  for (const entry of entries) {
    const name = entry.replace(/^package\//, '');
    for (const [pattern, what] of forbiddenNames) if (pattern.test(name)) problems.push(`${entry}: ${what}`);
  }
  for (const entry of entries.filter((e) => !e.endsWith('/') && !/\.(png|br|gz)$/.test(e))) {
    const text = execFileSync('tar', ['-xzOf', tarball, entry], { maxBuffer: 64 * 1024 * 1024 }).toString();
    for (const [pattern, what] of forbiddenContent)
      if (pattern.test(text)) problems.push(`${entry}: holds ${what}`);
  }
  return { entries, problems };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tarball = process.argv[2];
  if (!tarball) {
    console.error('usage: node scripts/pack-check.mjs TARBALL');
    process.exit(2);
  }
  const { entries, problems } = checkTarball(tarball);
  if (problems.length > 0) {
    console.error(`pack check: ${tarball} must not ship:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`pack check: ${entries.length} files, nothing that must not ship`);
}

// No secret shows up anywhere but the 0600 credential files: a full run (hub, gateway, an agent
// whose provider prints its own key, an --env-pass variable, an Anthropic key and a private key;
// messages, tasks, context) and then everything it wrote —
// every other file, every database row, every log line and every command's output — is searched
// for the secrets of the tokens it minted.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Assignment } from '@gantry/protocol';
import { connectArgs, createAgent, startHub } from './fixtures.ts';
import { Sandbox, type CliResult, savedSession } from './harness.ts';

const require = createRequire(import.meta.url);

/** Files that exist to hold a credential; each must be 0600. */
const credentialFiles = new Set([
  'config/user.json',
  'config/gateway-session.json',
  'config/local-api.token',
  'config/access-token.json',
  'data/owner.token',
  'data/device-key.pem',
]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : entry.isFile() ? [path] : [];
  });
}

function databaseRows(path: string): string {
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare(`select name from sqlite_master where type = 'table'`).all() as {
      name: string;
    }[];
    return tables
      .map(({ name }) => {
        const rows = db.prepare(`select * from "${name}"`).all();
        return JSON.stringify(rows, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
        );
      })
      .join('\n');
  } finally {
    db.close();
  }
}

/** The secret part of a Gantry token (what must never leak; the id before it may). */
const secretOf = (token: string) => token.split('.')[1] ?? token;

describe('no secret in any log, event, error, row or file', () => {
  const box = new Sandbox();
  const outputs: CliResult[] = [];
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await box.run(args, env);
    outputs.push(result);
    return result;
  };
  afterAll(() => box.cleanup());

  it('keeps every minted secret inside the 0600 credential files', async () => {
    const { hub, ready } = await startHub(box);
    const agent = await createAgent(box, 'leaky');
    // The provider tries to leak: its key (whole, glued to a word, its secret half alone), a
    // variable passed with --env-pass, an Anthropic key and a private key (made by the script, so
    // the script file holds none of them) go to stdout, stderr, events, the result and the error.
    const bin = box.script(
      'leaky.sh',
      `key=$(cat "$GANTRY_TOKEN_FILE")
echo "my key is $key"
echo "stderr key $key" >&2
echo 'GANTRY_EVENT {"type":"status","message":"'"$key"'"}'
echo "glued:key$key"
echo "half \${key#*.}"
echo "passed=$MY_SECRET"
echo "anthropic sk-ant-api03-$(printf 'k3Y%.0s' $(seq 30))"
printf -- '-----BEGIN PRIVATE KEY-----\n'
for i in 1 2 3; do printf 'MIIE%060d\n' $i; done
printf -- '-----END PRIVATE KEY-----\n'
case "$1" in *fail*) echo "cannot log in with $MY_SECRET" >&2; exit 3 ;; esac`,
    );
    const mySecret = 'my-very-own-secret-4242';
    await run([...connectArgs(ready.url, agent.key, 'generic', bin), '--env-pass', 'MY_SECRET']);
    const gateway = box.start(['gateway', 'start', '--port', '0', '--json'], {
      GANTRY_LOG_LEVEL: 'debug',
      MY_SECRET: mySecret,
    });
    await gateway.ready();

    const done = await run(['assign', 'leaky', 'leak please', '--wait', '30s', '--json']);
    const output = (JSON.parse(done.stdout) as Assignment).result?.output ?? '';
    expect(output).toContain('[redacted]');
    expect(output).toContain('sk-ant-[redacted]');
    expect(output).toContain('[redacted private key]');
    const failed = await run(['assign', 'leaky', 'fail please', '--wait', '30s', '--json']);
    expect((JSON.parse(failed.stdout) as Assignment).error?.message).toContain(
      'cannot log in with [redacted]',
    );
    await run(['assignments', 'events', (JSON.parse(failed.stdout) as Assignment).id, '--json']);
    await run(['assignments', 'list', '--json']);
    const created = JSON.parse(done.stdout) as Assignment;
    await run(['assignments', 'events', created.id, '--json']);
    await run(['send', 'hello @leaky', '--json']);
    await run(['inbox', '--json'], { GANTRY_TOKEN: agent.key });
    await run(['tasks', 'create', 'a task', '--assign', 'leaky', '--json']);
    await run(['context', 'set', 'note', 'some value']);
    await run(['whoami', '--json']);
    // Tokens minted on purpose are printed once by the command that mints them, and nowhere else.
    const alice = await box.json<{ token: string }>(['users', 'add', 'alice', '--role', 'member']);
    const personal = await box.json<{ secret: string }>(['tokens', 'create', '--expires', '1h']);
    await run(['whoami', '--json'], { GANTRY_TOKEN: alice.token });
    await run(['send', 'from alice @leaky'], { GANTRY_TOKEN: alice.token });
    await run(['whoami', '--json'], { GANTRY_TOKEN: personal.secret });
    // A refused token must not be echoed back either.
    await run(['whoami'], { GANTRY_TOKEN: `${agent.key.split('.')[0]}.${'x'.repeat(43)}` });

    await gateway.stop();
    await hub.stop();

    const session = savedSession(box.home) as {
      gatewayToken: string;
    };
    const secrets = [ready.ownerToken, agent.key, session.gatewayToken, alice.token, personal.secret].map(
      secretOf,
    );
    // The CLI's cached access tokens (JWTs) and the device's private key are secrets too.
    const cache = readFileSync(join(box.home, 'config', 'access-token.json'), 'utf8');
    secrets.push(...(cache.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? []));
    const pem = readFileSync(join(box.home, 'data', 'device-key.pem'), 'utf8');
    secrets.push(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''));
    // What the provider printed: the passed variable, the Anthropic key, the private key's lines.
    secrets.push(mySecret, `api03-${'k3Y'.repeat(30)}`);
    for (const i of [1, 2, 3]) secrets.push(`MIIE${String(i).padStart(60, '0')}`);
    expect(secrets.length).toBeGreaterThan(11);

    const leaks: string[] = [];
    const check = (where: string, text: string) => {
      for (const secret of secrets) if (text.includes(secret)) leaks.push(where);
    };
    for (const path of files(box.home)) {
      const name = relative(box.home, path);
      if (credentialFiles.has(name)) {
        expect(statSync(path).mode & 0o777, name).toBe(0o600);
        continue;
      }
      if (name.endsWith('.db')) check(`${name} (rows)`, databaseRows(path));
      check(name, readFileSync(path, 'latin1'));
    }
    // `hub start --json` prints the first start's owner token by design (DESIGN §5): only that line may.
    check('hub log', hub.stdout.split('\n').slice(1).join('\n') + hub.stderr);
    check('gateway log', gateway.stdout + gateway.stderr);
    outputs.forEach((o, i) => check(`command ${i} output`, o.stdout + o.stderr));
    expect(leaks).toEqual([]);
  }, 90_000);
});

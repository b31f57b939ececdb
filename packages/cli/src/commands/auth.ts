/**
 * `gantry auth doctor`: which credential the CLI would use and why (DESIGN §7), the hub, the
 * principal and workspace, the access-token cache, and every problem found. It changes nothing:
 * no exchange, no cache write. Secrets are never printed, only a token's kind and id.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errorBodySchema, healthSchema, meSchema, redact, type Me } from '@gantry/protocol';
import { gantryPaths, modeProblem, privateFileMode, privateFolderMode } from '@gantry/protocol/node';
import { accessTokenFile, cachedAccessToken, longLivedTokenId, tokenLabel } from '../access-token.ts';
import {
  defaultHubUrl,
  loadLogin,
  resolveHub,
  type HubOptions,
  type ResolvedHub,
  type UserFile,
} from '../credentials.ts';
import { findFolderConfig } from '../folder-config.ts';
import { printJson, printLine } from '../output.ts';

interface Problem {
  code: string;
  /** `error` makes the doctor exit 1; a `warning` is worth knowing but works. */
  severity: 'error' | 'warning';
  message: string;
}

export interface FileCheck {
  path: string;
  mode: string;
  ok: boolean;
  /** The command that makes it private, when it is not. */
  fix?: string;
}

const sourceNames: Record<ResolvedHub['tokenSource'] | ResolvedHub['urlSource'], string> = {
  flag: 'the --token/--hub flag',
  environment: 'the environment',
  login: 'your login (user.json)',
  default: 'the default',
  none: 'nowhere',
};

export async function doctor(options: HubOptions & { json?: boolean; dataDir?: string }): Promise<void> {
  const problems: Problem[] = [];
  const problem = (code: string, message: string, severity: Problem['severity'] = 'error') =>
    problems.push({ code, severity, message: redact(message) });
  const paths = gantryPaths();

  let login: UserFile | undefined;
  try {
    login = loadLogin();
  } catch (err) {
    problem('login_unreadable', (err as Error).message);
  }
  const hub = resolveHubSafely(options);
  const token = hub.token;

  const credential = {
    source: hub.tokenSource,
    token: token ? tokenLabel(token) : null,
    tokenId: token ? (longLivedTokenId(token) ?? null) : null,
    kind: token ? tokenKind(token) : null,
  };
  if (!token)
    problem('no_credential', 'no credential: run `gantry login --url URL`, or pass --token / GANTRY_TOKEN');
  if (hub.tokenSource === 'environment' && login && login.token !== token)
    problem(
      'login_shadowed',
      `GANTRY_TOKEN is set, so your login as ${login.principal.name} is not used`,
      'warning',
    );
  if (hub.tokenSource === 'flag' && login && login.token !== token)
    problem(
      'login_shadowed',
      `--token is given, so your login as ${login.principal.name} is not used`,
      'warning',
    );
  if (hub.tokenSource === 'login' && login && login.url.replace(/\/+$/, '') !== hub.url)
    problem(
      'hub_mismatch',
      `your login is for ${login.url} but the hub is ${hub.url} (from ${sourceNames[hub.urlSource]})`,
      'warning',
    );

  let folder: { file: string; root: string; agent: string; hubUrl: string } | null = null;
  try {
    const found = findFolderConfig();
    if (found) folder = { file: found.file, root: found.root, agent: found.agent, hubUrl: found.hubUrl };
  } catch (err) {
    problem('folder_config_invalid', (err as Error).message);
  }

  const health = await probe(hub.url, '/v1/health', undefined);
  let reachable = false;
  let version: string | null = null;
  if (health.kind === 'unreachable') {
    problem('hub_unreachable', `cannot reach the hub at ${hub.url} (${health.cause})`);
  } else if (health.kind === 'answer' && health.status === 200) {
    reachable = true;
    version = healthSchema.safeParse(health.json).data?.version ?? null;
  } else {
    problem('hub_unhealthy', `the hub at ${hub.url} answered HTTP ${health.status} to /v1/health`);
  }

  let me: Me | null = null;
  if (reachable && token) {
    const answer = await probe(hub.url, '/v1/me', token);
    if (answer.kind === 'answer' && answer.status === 200) {
      me = meSchema.safeParse(answer.json).data ?? null;
    } else {
      const message = answer.kind === 'answer' ? hubMessage(answer) : answer.cause;
      problem(
        answer.kind === 'answer' && answer.status === 401 ? 'token_refused' : 'me_failed',
        `the hub refused ${credential.token} from ${sourceNames[hub.tokenSource]}: ${message}`,
      );
    }
  }
  if (me && me.principal.kind !== 'user')
    problem(
      'not_a_user',
      `this CLI acts as ${me.principal.kind} ${me.principal.name}, not as a person`,
      'warning',
    );

  const accessToken = await accessTokenState(hub, reachable, problem);
  const files = checkFiles(paths, options.dataDir ? resolve(options.dataDir) : undefined, problem);

  const errors = problems.filter((p) => p.severity === 'error').length;
  const report = {
    healthy: errors === 0,
    credential,
    hub: { url: hub.url, source: hub.urlSource, reachable, version },
    principal: me?.principal ?? null,
    workspace: me?.workspace ?? null,
    login: login
      ? { file: paths.userFile, url: login.url, principal: login.principal.name }
      : { file: paths.userFile, url: null, principal: null },
    folder,
    accessToken,
    files,
    problems,
  };
  process.exitCode = errors === 0 ? 0 : 1;
  if (options.json) return printJson(report);

  printLine(`Credential    ${credential.token ?? 'none'} from ${sourceNames[hub.tokenSource]}`);
  printLine(
    `Hub           ${hub.url} from ${sourceNames[hub.urlSource]}: ${reachable ? `reachable${version ? `, version ${version}` : ''}` : 'not reachable'}`,
  );
  if (me) {
    const role = me.principal.role ? `, ${me.principal.role}` : '';
    printLine(
      `Acting as     ${me.principal.name} (${me.principal.kind}${role}) in workspace ${me.workspace.name}`,
    );
  }
  printLine(
    `Login         ${login ? `${login.principal.name} on ${login.url}` : 'none'} (${paths.userFile})`,
  );
  printLine(
    `Folder        ${folder ? `pass-through agent ${folder.agent} for \`gantry local\` (${folder.file})` : 'no registration'}`,
  );
  printLine(`Access token  ${describeAccessToken(accessToken)}`);
  if (problems.length === 0) return printLine('No problems found.');
  printLine(`${errors} problem(s), ${problems.length - errors} warning(s):`);
  for (const p of problems) printLine(`  ${p.severity === 'error' ? 'x' : '!'} ${p.message}`);
}

function resolveHubSafely(options: HubOptions): ResolvedHub {
  try {
    return resolveHub(options);
  } catch {
    // A damaged user.json (already reported): resolve as if there were no login.
    const env = process.env;
    const url = options.hub ?? env.GANTRY_HUB_URL;
    const token = options.token ?? env.GANTRY_TOKEN;
    return {
      url: (url ?? defaultHubUrl).replace(/\/+$/, ''),
      urlSource: options.hub ? 'flag' : url ? 'environment' : 'default',
      token,
      tokenSource: options.token ? 'flag' : token ? 'environment' : 'none',
    };
  }
}

function tokenKind(token: string): string {
  const letter = /^gnt_([uag])_/.exec(token)?.[1];
  if (letter) return { u: 'user', a: 'agent', g: 'gateway' }[letter] ?? 'unknown';
  return token.startsWith('eyJ') ? 'access token' : 'unknown';
}

type Probe = { kind: 'answer'; status: number; json: unknown } | { kind: 'unreachable'; cause: string };

async function probe(url: string, path: string, token: string | undefined): Promise<Probe> {
  try {
    const response = await fetch(`${url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(5000),
    });
    return { kind: 'answer', status: response.status, json: await response.json().catch(() => undefined) };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { kind: 'unreachable', cause };
  }
}

function hubMessage(answer: { status: number; json: unknown }): string {
  return errorBodySchema.safeParse(answer.json).data?.error.message ?? `HTTP ${answer.status}`;
}

type AccessTokenState =
  | { state: 'not_applicable'; file: string; reason: string }
  | { state: 'none'; file: string }
  | { state: 'valid' | 'expiring' | 'expired' | 'refused'; file: string; expiresAt: string };

/** The cached access token for this hub and credential, checked against the hub if still valid. */
async function accessTokenState(
  hub: ResolvedHub,
  reachable: boolean,
  problem: (code: string, message: string, severity?: Problem['severity']) => void,
): Promise<AccessTokenState> {
  const file = accessTokenFile();
  if (!hub.token || !longLivedTokenId(hub.token))
    return { state: 'not_applicable', file, reason: 'only a long-lived token (gnt_...) is exchanged' };
  const cached = cachedAccessToken(hub.url, hub.token);
  if (!cached) return { state: 'none', file };
  const expiresAt = new Date(cached.expiresAt).toISOString();
  const left = cached.expiresAt - Date.now();
  if (left <= 0) return { state: 'expired', file, expiresAt };
  if (reachable) {
    const answer = await probe(hub.url, '/v1/me', cached.accessToken);
    if (answer.kind === 'answer' && answer.status === 401) {
      problem(
        'access_token_refused',
        `the hub refuses the cached access token (${hubMessage(answer)}); the next command exchanges a new one`,
        'warning',
      );
      return { state: 'refused', file, expiresAt };
    }
  }
  return { state: left < 60_000 ? 'expiring' : 'valid', file, expiresAt };
}

function describeAccessToken(s: AccessTokenState): string {
  switch (s.state) {
    case 'not_applicable':
      return `not used (${s.reason})`;
    case 'none':
      return 'none cached yet (the next command exchanges one)';
    case 'valid':
      return `cached, valid until ${s.expiresAt}`;
    default:
      return `cached, ${s.state} (${s.expiresAt}); the next command exchanges a new one`;
  }
}

/**
 * Files holding credentials must be 0600 and their folders 0700, all this user's (DESIGN §5): the
 * config and data folders with what they hold, a hub's database (with its `-wal`/`-shm`: it holds
 * the JWT signing key) and owner token, and `--data-dir`'s when a hub keeps its files elsewhere.
 */
export function checkFiles(
  paths: ReturnType<typeof gantryPaths>,
  dataDir: string | undefined,
  problem: (code: string, message: string) => void,
): FileCheck[] {
  const checks: FileCheck[] = [];
  const check = (path: string, wanted: number) => {
    if (!existsSync(path) || checks.some((c) => c.path === path)) return;
    const found = modeProblem(path, wanted);
    const mode = (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
    checks.push({ path, mode, ok: !found, ...(found ? { fix: found.fix } : {}) });
    if (found)
      problem(
        found.problem.startsWith('has mode') ? 'loose_file_mode' : 'file_not_yours',
        `${path} ${found.problem}; run \`${found.fix}\``,
      );
  };
  const database = (path: string) => ['', '-wal', '-shm', '-journal'].map((suffix) => `${path}${suffix}`);
  for (const folder of [paths.config, paths.data, paths.runDir]) check(folder, privateFolderMode);
  for (const path of [
    paths.userFile,
    accessTokenFile(),
    paths.sessionFile,
    paths.bindingsFile,
    paths.localApiTokenFile,
    join(paths.config, 'local-agents.json'),
    join(paths.data, 'device-key.pem'),
    join(paths.data, 'owner.token'),
    ...database(paths.hubDb),
    ...database(paths.gatewayDb),
  ])
    check(path, privateFileMode);
  if (dataDir) {
    check(dataDir, privateFolderMode);
    for (const path of [join(dataDir, 'owner.token'), ...database(join(dataDir, 'hub.db'))])
      check(path, privateFileMode);
  }
  return checks;
}

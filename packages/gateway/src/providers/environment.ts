/**
 * The environment a provider process gets (DESIGN §5): an allowlist of the gateway's own (never its
 * tokens), the provider's own variable families, and the names the binding passes with `--env-pass`.
 */
const allowed = new Set([
  'HOME',
  'PATH',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'TERM',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
]);

/**
 * @param families exact names or prefixes ending in `_` (e.g. `OPENAI_`), from the provider.
 * @param pass exact names from the binding's `--env-pass`.
 */
export function allowlistedEnv(
  families: readonly string[] = [],
  pass: readonly string[] = [],
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const names = new Set(pass);
  const prefixes = families.filter((f) => f.endsWith('_'));
  for (const f of families) if (!f.endsWith('_')) names.add(f);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || name.startsWith('GANTRY_')) continue;
    if (
      allowed.has(name) ||
      name.startsWith('LC_') ||
      names.has(name) ||
      prefixes.some((p) => name.startsWith(p))
    )
      env[name] = value;
  }
  return env;
}

/** Names that hold a credential in a provider's families (OPENAI_API_KEY, ANTHROPIC_AUTH_TOKEN...). */
const secretName = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/**
 * The values a run must never show (masked by value in everything it emits): every `--env-pass`
 * variable's and the provider's own secret variables', as the provider gets them.
 */
export function secretEnvValues(
  families: readonly string[] = [],
  pass: readonly string[] = [],
  source: NodeJS.ProcessEnv = process.env,
): string[] {
  return secretValuesOf(allowlistedEnv(families, pass, source), pass);
}

/** The same, of an environment `allowlistedEnv` already made. */
export function secretValuesOf(env: Record<string, string>, pass: readonly string[] = []): string[] {
  const passed = new Set(pass);
  return Object.entries(env)
    .filter(([name]) => passed.has(name) || secretName.test(name))
    .map(([, value]) => value);
}

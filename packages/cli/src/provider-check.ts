/** Whether a provider is known, and a warning when it cannot run here yet (connect and bind). */
import { GantryError } from '@gantry/protocol';
import { createProvider, providerNames, type ProviderSettings } from '@gantry/gateway';

export function ensureKnown(provider: string): void {
  if (!(providerNames as readonly string[]).includes(provider)) {
    throw new GantryError(
      'invalid_request',
      `unknown provider '${provider}' (known: ${providerNames.join(', ')})`,
    );
  }
}

/**
 * A provider that cannot run here (binary missing or broken, server down) is reported, not fatal:
 * the gateway still serves, `gateway status` shows the agent unavailable, and its runs fail with
 * `provider_unavailable` until it is fixed.
 */
export async function warnIfUnavailable(
  provider: string,
  bin: string | undefined,
  settings: ProviderSettings,
): Promise<void> {
  ensureKnown(provider);
  const check = await createProvider(provider, { ...(bin ? { bin } : {}), settings }).check();
  if (!check.ok)
    process.stderr.write(`gantry: warning: provider ${provider} cannot run here yet: ${check.detail}\n`);
}

/** The providers this gateway knows, by name. Later providers (codex, claude-code, acp) join here. */
import { GantryError } from '@gantry/protocol';
import { echoProvider } from './echo.ts';
import { genericProvider } from './generic.ts';
import type { StopGraces } from './process-group.ts';
import type { Provider } from './provider.ts';

export const providerNames = ['echo', 'generic'] as const;
export type ProviderName = (typeof providerNames)[number];

export interface ProviderOptions {
  /** For `generic`: the command to run (`--provider-bin`, or GANTRY_GENERIC_BIN). */
  bin?: string;
  graces?: StopGraces;
}

export function createProvider(name: string, options: ProviderOptions = {}): Provider {
  switch (name) {
    case 'echo':
      return echoProvider;
    case 'generic':
      return genericProvider(options.bin ?? process.env.GANTRY_GENERIC_BIN, options.graces);
    default:
      throw new GantryError(
        'invalid_request',
        `unknown provider '${name}' (known: ${providerNames.join(', ')})`,
      );
  }
}

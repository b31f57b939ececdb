/** The providers this gateway knows, by name. */
import { join } from 'node:path';
import { GantryError } from '@gantry/protocol';
import { gantryPaths } from '@gantry/protocol/node';
import { acpProvider } from './acp.ts';
import { claudeCodeProvider } from './claude-code.ts';
import { codexProvider } from './codex.ts';
import { echoProvider } from './echo.ts';
import { genericProvider } from './generic.ts';
import { ollamaProvider } from './ollama.ts';
import { defaultStopGraces, type StopGraces } from './process-group.ts';
import type { Provider } from './provider.ts';
import type { ProviderSettings } from './settings.ts';

export const providerNames = ['echo', 'generic', 'codex', 'claude-code', 'acp', 'ollama'] as const;
export type ProviderName = (typeof providerNames)[number];

export interface ProviderOptions {
  /**
   * The binary: `--provider-bin` (generic, acp), `--codex-bin`, `--claude-bin`. Unset, each
   * provider looks at its variable (GANTRY_GENERIC_BIN, CODEX_BIN, CLAUDE_BIN), then on PATH.
   */
  bin?: string;
  graces?: StopGraces;
  settings?: ProviderSettings;
  /** Where a provider may keep state of its own (ollama's conversations): `<data>/providers/<name>`. */
  stateDir?: string;
}

/** What every provider factory gets. */
export interface ProviderFactoryOptions {
  bin: string | undefined;
  graces: StopGraces;
  settings: ProviderSettings;
  stateDir: string;
}

export function createProvider(name: string, options: ProviderOptions = {}): Provider {
  const factory: ProviderFactoryOptions = {
    bin: options.bin,
    graces: options.graces ?? defaultStopGraces,
    settings: options.settings ?? {},
    stateDir: options.stateDir ?? join(gantryPaths().data, 'providers', name),
  };
  switch (name) {
    case 'echo':
      return echoProvider;
    case 'generic':
      return genericProvider(options.bin ?? process.env.GANTRY_GENERIC_BIN, factory.graces);
    case 'codex':
      return codexProvider(factory);
    case 'claude-code':
      return claudeCodeProvider(factory);
    case 'acp':
      return acpProvider(factory);
    case 'ollama':
      return ollamaProvider(factory);
    default:
      throw new GantryError(
        'invalid_request',
        `unknown provider '${name}' (known: ${providerNames.join(', ')})`,
      );
  }
}

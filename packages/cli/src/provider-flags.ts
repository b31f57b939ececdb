/**
 * The provider flags of `gateway connect|run|bind`: which binary, and the binding's settings
 * (sandbox, permissions, passed environment, ollama's URL and model, isolation).
 */
import { GantryError, parseOrThrow } from '@gantry/protocol';
import { providerSettingsSchema, type ProviderSettings } from '@gantry/gateway';

export interface ProviderFlags {
  providerBin?: string;
  codexBin?: string;
  claudeBin?: string;
  sandbox?: string;
  permissionMode?: string;
  allowedTools?: string;
  permission?: string;
  envPass?: string[];
  ollamaUrl?: string;
  ollamaModel?: string;
  isolation?: string;
}

/** The settings the flags give (only those given), validated. */
export function settingsFromFlags(flags: ProviderFlags): ProviderSettings {
  const given = {
    sandbox: flags.sandbox,
    permissionMode: flags.permissionMode,
    allowedTools: flags.allowedTools
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    permission: flags.permission,
    envPass: flags.envPass,
    ollamaUrl: flags.ollamaUrl,
    ollamaModel: flags.ollamaModel,
    isolation: flags.isolation,
  };
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return parseOrThrow(providerSettingsSchema, defined, 'provider flags');
}

/** The binary flag that belongs to the provider: --codex-bin, --claude-bin, else --provider-bin. */
export function binFromFlags(provider: string, flags: ProviderFlags): string | undefined {
  if (provider === 'codex') return flags.codexBin ?? flags.providerBin;
  if (provider === 'claude-code') return flags.claudeBin ?? flags.providerBin;
  return flags.providerBin;
}

export function hasProviderFlags(flags: ProviderFlags): boolean {
  return (
    Object.keys(settingsFromFlags(flags)).length > 0 ||
    flags.codexBin !== undefined ||
    flags.claudeBin !== undefined
  );
}

export function rejectMixedBins(provider: string, flags: ProviderFlags): void {
  if (flags.codexBin && provider !== 'codex')
    throw new GantryError('invalid_request', `--codex-bin is for the codex provider, not ${provider}`);
  if (flags.claudeBin && provider !== 'claude-code')
    throw new GantryError('invalid_request', `--claude-bin is for the claude-code provider, not ${provider}`);
}

/**
 * A binding's provider settings: which binary, how much the agent may do on its own, and what else
 * it gets. Set with flags on `gateway bind` and `gateway run`; kept in the binding.
 */
import * as z from 'zod';

export const sandboxModes = ['read-only', 'workspace-write', 'danger-full-access'] as const;
export const permissionPolicies = ['allow', 'deny', 'ask'] as const;
export type PermissionPolicy = (typeof permissionPolicies)[number];
export const isolationModes = ['none', 'worktree'] as const;

export const providerSettingsSchema = z.object({
  /** codex: `--sandbox` (default `workspace-write`). */
  sandbox: z.enum(sandboxModes).optional(),
  /** claude-code: `--permission-mode` (default: Claude's own default mode). */
  permissionMode: z.string().min(1).optional(),
  /** claude-code: `--allowed-tools`, e.g. `Bash,Edit`. */
  allowedTools: z.array(z.string().min(1)).optional(),
  /** acp (and ollama's shell tool): what a permission request gets (default `ask`). */
  permission: z.enum(permissionPolicies).optional(),
  /** Extra environment variables passed through to the provider, by name. */
  envPass: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).optional(),
  /** ollama: the API's base URL (default http://127.0.0.1:11434) and the model. */
  ollamaUrl: z.string().url().optional(),
  ollamaModel: z.string().min(1).optional(),
  /** `worktree`: every assignment runs in its own git worktree on branch `gantry/<assignment-id>`. */
  isolation: z.enum(isolationModes).optional(),
});
export type ProviderSettings = z.infer<typeof providerSettingsSchema>;

export const defaultPermissionPolicy: PermissionPolicy = 'ask';
export const defaultOllamaUrl = 'http://127.0.0.1:11434';

/** Later settings win, key by key; lists are replaced, not merged. */
export function mergeSettings(...layers: (ProviderSettings | undefined)[]): ProviderSettings {
  const merged: ProviderSettings = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

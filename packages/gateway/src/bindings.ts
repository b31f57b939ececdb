/** `logical-sessions.json`: per-agent provider and working folder on this gateway (0600). */
import * as z from 'zod';
import { readJsonFile, writeSecretJson } from '@gantry/protocol/node';
import { providerSettingsSchema } from './providers/settings.ts';

export const bindingSchema = z.object({
  agentId: z.string(),
  agentName: z.string(),
  provider: z.string(),
  workdir: z.string(),
  providerBin: z.string().optional(),
  providerArgs: z.array(z.string()).optional(),
  /** Let several runs share the workdir at once (default: one at a time). */
  parallel: z.boolean().default(false),
  /** Sandbox, permissions, passed environment, isolation, ollama's URL and model. */
  settings: providerSettingsSchema.default({}),
  updatedAt: z.string(),
});
export type Binding = z.infer<typeof bindingSchema>;

const fileSchema = z.object({ bindings: z.record(z.string(), bindingSchema) });

export function loadBindings(path: string): Record<string, Binding> {
  return readJsonFile(path, fileSchema)?.bindings ?? {};
}

export function saveBinding(path: string, binding: Omit<Binding, 'updatedAt'>): Binding {
  const bindings = loadBindings(path);
  const saved = { ...binding, updatedAt: new Date().toISOString() };
  bindings[binding.agentId] = saved;
  writeSecretJson(path, { bindings });
  return saved;
}

/** Drops an agent's binding, if it has one. */
export function removeBinding(path: string, agentId: string): void {
  const bindings = loadBindings(path);
  if (!(agentId in bindings)) return;
  delete bindings[agentId];
  writeSecretJson(path, { bindings });
}

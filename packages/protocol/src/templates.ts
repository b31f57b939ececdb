/**
 * Agent templates (`gantry templates`, `gantry agents add NAME --template T`): what each kind of
 * agent is for, what it needs, its agent kind and provider. The hub validates `agents add` against
 * this catalogue; the CLI and the hub's `GET /v1/templates` show it.
 */
import * as z from 'zod';
import { agentKinds, agentSchema, nameSchema } from './resources.ts';

/** The provider settings a template may take, by the flag that sets them. */
export const templateSettingKeys = [
  'sandbox',
  'permissionMode',
  'allowedTools',
  'permission',
  'envPass',
  'ollamaUrl',
  'ollamaModel',
  'isolation',
] as const;
export type TemplateSettingKey = (typeof templateSettingKeys)[number];

export interface Template {
  name: string;
  /** What it is for, one line. */
  summary: string;
  kind: (typeof agentKinds)[number];
  /** The gateway provider it runs with; null for agents no gateway runs. */
  provider: string | null;
  /** What the machine or the caller must have, in words. */
  needs: string[];
  /** Flags of `agents add` it takes. */
  flags: string[];
  /** Settings it must be given. */
  required: TemplateSettingKey[];
  /** Settings it may be given; others are refused. */
  settings: TemplateSettingKey[];
  /** Whether `--provider-bin` (or its own binary flag) applies. */
  bin: boolean;
}

const common: TemplateSettingKey[] = ['envPass', 'isolation'];

export const templates: Template[] = [
  {
    name: 'echo',
    summary: 'answers every prompt with "echo: PROMPT"; for trying Gantry and testing a gateway',
    kind: 'managed',
    provider: 'echo',
    needs: ['a connected gateway (--gateway)'],
    flags: ['--gateway', '--workdir'],
    required: [],
    settings: common,
    bin: false,
  },
  {
    name: 'generic',
    summary: 'runs any command with the prompt as its last argument; its output is the reply',
    kind: 'managed',
    provider: 'generic',
    needs: ['a connected gateway (--gateway)', 'an executable on that machine (--provider-bin)'],
    flags: ['--gateway', '--workdir', '--provider-bin', '--env-pass'],
    required: [],
    settings: common,
    bin: true,
  },
  {
    name: 'codex',
    summary: 'OpenAI Codex CLI (codex exec) in the workdir',
    kind: 'managed',
    provider: 'codex',
    needs: ['a connected gateway (--gateway)', 'codex on that machine (--codex-bin, CODEX_BIN or PATH)'],
    flags: ['--gateway', '--workdir', '--codex-bin', '--sandbox', '--env-pass', '--isolation'],
    required: [],
    settings: ['sandbox', ...common],
    bin: true,
  },
  {
    name: 'claude-code',
    summary: 'Claude Code (claude -p) in the workdir',
    kind: 'managed',
    provider: 'claude-code',
    needs: ['a connected gateway (--gateway)', 'claude on that machine (--claude-bin, CLAUDE_BIN or PATH)'],
    flags: [
      '--gateway',
      '--workdir',
      '--claude-bin',
      '--permission-mode',
      '--allowed-tools',
      '--env-pass',
      '--isolation',
    ],
    required: [],
    settings: ['permissionMode', 'allowedTools', ...common],
    bin: true,
  },
  {
    name: 'acp',
    summary: 'any Agent Client Protocol agent over stdio (e.g. gemini --experimental-acp)',
    kind: 'managed',
    provider: 'acp',
    needs: ['a connected gateway (--gateway)', 'the ACP agent binary on that machine (--provider-bin)'],
    flags: ['--gateway', '--workdir', '--provider-bin', '--permission', '--env-pass', '--isolation'],
    required: [],
    settings: ['permission', ...common],
    bin: true,
  },
  {
    name: 'ollama',
    summary: 'a local model served by Ollama, with a shell tool in the workdir',
    kind: 'managed',
    provider: 'ollama',
    needs: ['a connected gateway (--gateway)', 'an Ollama server it can reach', 'a model (--ollama-model)'],
    flags: ['--gateway', '--workdir', '--ollama-model', '--ollama-url', '--permission', '--isolation'],
    required: ['ollamaModel'],
    settings: ['ollamaModel', 'ollamaUrl', 'permission', ...common],
    bin: false,
  },
  {
    name: 'pass-through',
    summary: 'a session that polls its inbox itself (Codex or Claude Code in a terminal, a script)',
    kind: 'pass_through',
    provider: null,
    needs: ['a folder registered with `gantry local init NAME`, or its key for `gantry listen`'],
    flags: [],
    required: [],
    settings: [],
    bin: false,
  },
  {
    name: 'service-account',
    summary: 'a sender for scripts and CI: sends messages and creates tasks, never runs anything',
    kind: 'service',
    provider: null,
    needs: ['nothing: its key is printed once, for GANTRY_TOKEN'],
    flags: [],
    required: [],
    settings: [],
    bin: false,
  },
];

export const templateNames = templates.map((t) => t.name);

export function findTemplate(name: string): Template | undefined {
  return templates.find((t) => t.name === name);
}

export const templateSchema = z.object({
  name: z.string(),
  summary: z.string(),
  kind: z.enum(agentKinds),
  provider: z.string().nullable(),
  needs: z.array(z.string()),
  flags: z.array(z.string()),
  required: z.array(z.string()),
  settings: z.array(z.string()),
  bin: z.boolean(),
});

/** `POST /v1/agents/add`: an agent from a template, and for a managed one its binding on a gateway. */
export const addAgentSchema = z.strictObject({
  name: nameSchema,
  template: z.string().min(1).max(64),
  /** A gateway id or name; required for managed templates. */
  gateway: z.string().min(1).max(128).optional(),
  /** A folder on the gateway's machine (default: the gateway's workspace root). */
  workdir: z.string().min(1).max(4096).optional(),
  providerBin: z.string().min(1).max(4096).optional(),
  settings: z.record(z.string(), z.unknown()).default({}),
});
export type AddAgent = z.infer<typeof addAgentSchema>;

export const addedAgentSchema = z.object({
  agent: agentSchema,
  template: z.string(),
  /** The gateway now serving it (managed templates). */
  gateway: z.object({ id: z.string(), name: z.string() }).nullable(),
  binding: z
    .object({ provider: z.string(), workdir: z.string().nullable(), providerBin: z.string().nullable() })
    .nullable(),
  /** Only for a `service-account`: its key, shown once (it is meant for a script's GANTRY_TOKEN). */
  key: z.string().optional(),
});
export type AddedAgent = z.infer<typeof addedAgentSchema>;

/** `DELETE /v1/agents/:ref`. */
export const removedAgentSchema = z.object({
  agent: z.object({ id: z.string(), name: z.string() }),
  /** `deleted` when nothing referred to it, else `removed` (kept for history, unusable). */
  outcome: z.enum(['deleted', 'removed']),
  revokedKeys: z.number().int(),
  detachedFrom: z.array(z.object({ id: z.string(), name: z.string(), told: z.boolean() })),
  cancelledAssignments: z.number().int(),
});
export type RemovedAgent = z.infer<typeof removedAgentSchema>;

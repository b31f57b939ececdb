/**
 * `@gantry/protocol/answers`: the answers the CLI's quick commands read (`whoami`, `agents list`,
 * `assign --wait`, the token exchange and an error body) as zod/mini readers. zod/mini and these
 * few load in a fraction of the time zod and the full schemas take, which is most of such a
 * command's start-up. Each reader is typed as its full schema's output, so a field the full schema
 * adds that a reader misses fails the type check; test/answers.test.ts checks they agree.
 */
import * as z from 'zod/mini';
import type { AccessToken, Agent, Me } from './resources.ts';
import type { Assignment, AssignmentEvent } from './assignment.ts';
import type { ErrorBody } from './gantry-error.ts';
import {
  agentKinds,
  assignmentModes,
  assignmentStates,
  principalKinds,
  resumeFallbacks,
} from './vocabulary.ts';

/** What `HubClient.request` and `readJsonFile` take: a zod or zod/mini schema, or one of these. */
export interface Reader<T> {
  safeParse(
    data: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };
}
interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

const count = () => z.int().check(z.nonnegative());

export const errorBodyAnswer: z.ZodMiniType<ErrorBody> = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.optional(z.unknown()) }),
});

export const accessTokenAnswer: z.ZodMiniType<AccessToken> = z.object({
  accessToken: z.string(),
  expiresAt: z.int(),
  tokenId: z.string(),
});

export const meAnswer: z.ZodMiniType<Me> = z.object({
  principal: z.object({
    kind: z.enum(principalKinds),
    id: z.string(),
    name: z.string(),
    role: z.nullable(z.string()),
  }),
  workspace: z.object({ id: z.string(), name: z.string() }),
});

export const agentAnswer: z.ZodMiniType<Agent> = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(agentKinds),
  workspaceId: z.string(),
  createdAt: z.string(),
  gateways: z.array(z.object({ id: z.string(), name: z.string(), connected: z.boolean() })),
  paused: z.boolean(),
  template: z.optional(z.nullable(z.string())),
});

export const agentListAnswer: z.ZodMiniType<Agent[]> = z.array(agentAnswer);

export const assignmentAnswer: z.ZodMiniType<Assignment> = z.object({
  id: z.string(),
  workspaceId: z.string(),
  agent: z.object({ id: z.string(), name: z.string() }),
  state: z.enum(assignmentStates),
  attempt: z.int(),
  prompt: z.string(),
  sessionKey: z.string(),
  mode: z.enum(assignmentModes),
  resumeFallback: z.enum(resumeFallbacks),
  timeoutMs: z.int(),
  retries: z.int(),
  gatewayId: z.nullable(z.string()),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.nullable(z.string()),
  finishedAt: z.nullable(z.string()),
  result: z.nullable(
    z.object({
      output: z.string(),
      exitCode: z.nullable(z.int()),
      branch: z.optional(z.string()),
      changedFiles: z.optional(z.array(z.string())),
      patch: z.optional(z.string()),
      patchTruncated: z.optional(z.boolean()),
      usage: z.optional(
        z.object({
          inputTokens: count(),
          outputTokens: count(),
          costUsd: z.optional(z.number().check(z.nonnegative())),
        }),
      ),
      reply: z.optional(z.boolean()),
    }),
  ),
  error: z.nullable(z.object({ code: z.string(), message: z.string() })),
  chainId: z.string(),
  depth: z.int(),
});

export const assignmentEventAnswer: z.ZodMiniType<AssignmentEvent> = z.object({
  seq: z.int().check(z.positive()),
  type: z.string().check(z.minLength(1), z.maxLength(64)),
  ts: z.string(),
  data: z.record(z.string(), z.unknown()),
  attempt: z.int().check(z.positive()),
});

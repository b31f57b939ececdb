// Issue 11, start-up: the CLI's quick commands read the hub's answers with zod/mini readers; each
// takes and refuses what the full schema does, on a real-shaped answer and on every one-field change.
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  accessTokenAnswer,
  agentListAnswer,
  assignmentAnswer,
  assignmentEventAnswer,
  errorBodyAnswer,
  meAnswer,
  type Reader,
} from '../src/answers.ts';
import {
  accessTokenSchema,
  agentSchema,
  assignmentEventSchema,
  assignmentSchema,
  errorBodySchema,
  meSchema,
} from '../src/index.ts';

const assignment = {
  id: 'asg_1',
  workspaceId: 'ws_1',
  agent: { id: 'agt_1', name: 'echo' },
  state: 'succeeded',
  attempt: 1,
  prompt: 'hi',
  sessionKey: 'default',
  mode: 'new',
  resumeFallback: 'fail',
  timeoutMs: 3_600_000,
  retries: 0,
  gatewayId: 'gw_1',
  createdBy: 'usr_1',
  createdAt: '2026-12-06T10:00:00.000Z',
  updatedAt: '2026-12-06T10:00:01.000Z',
  startedAt: '2026-12-06T10:00:00.500Z',
  finishedAt: '2026-12-06T10:00:01.000Z',
  result: {
    output: 'hi',
    exitCode: 0,
    branch: 'gantry/asg_1',
    changedFiles: ['a.txt'],
    patch: '',
    patchTruncated: false,
    usage: { inputTokens: 3, outputTokens: 1, costUsd: 0.01 },
    reply: true,
  },
  error: null,
  chainId: 'asg_1',
  depth: 1,
};

const cases: [string, Reader<unknown>, z.ZodType, unknown][] = [
  [
    'an error body',
    errorBodyAnswer,
    errorBodySchema,
    { error: { code: 'not_found', message: 'no', details: {} } },
  ],
  [
    'a token exchange',
    accessTokenAnswer,
    accessTokenSchema,
    { accessToken: 'eyJ', expiresAt: 1, tokenId: 'tok_1' },
  ],
  [
    'me',
    meAnswer,
    meSchema,
    {
      principal: { kind: 'user', id: 'usr_1', name: 'owner', role: 'owner' },
      workspace: { id: 'ws_1', name: 'default' },
    },
  ],
  [
    'an agent list',
    agentListAnswer,
    z.array(agentSchema),
    [
      {
        id: 'agt_1',
        name: 'echo',
        kind: 'managed',
        workspaceId: 'ws_1',
        createdAt: '2026-12-06T10:00:00.000Z',
        gateways: [{ id: 'gw_1', name: 'vm', connected: true }],
        paused: false,
        template: null,
      },
    ],
  ],
  ['an assignment', assignmentAnswer, assignmentSchema, assignment],
  [
    'an assignment event',
    assignmentEventAnswer,
    assignmentEventSchema,
    { seq: 1, type: 'message', ts: '2026-12-06T10:00:00.000Z', data: { text: 'hi' }, attempt: 1 },
  ],
];

/** The value with one field (at any depth) dropped, nulled, or given a value of another type. */
function* variants(value: unknown): Generator<unknown> {
  if (value === null || typeof value !== 'object') return;
  const entries = Object.entries(value);
  for (const [key, field] of entries) {
    const rebuild = (next: unknown) =>
      Array.isArray(value)
        ? value.map((item, i) => (String(i) === key ? next : item))
        : { ...value, [key]: next };
    if (!Array.isArray(value)) yield Object.fromEntries(entries.filter(([k]) => k !== key));
    for (const other of [null, 'text', -1, 1.5, true, [], {}]) yield rebuild(other);
    for (const inner of variants(field)) yield rebuild(inner);
  }
}

describe('the quick readers', () => {
  it.each(cases)('%s: take what the full schema takes, and give the same', (_, reader, schema, sample) => {
    const full = schema.safeParse(sample);
    expect(full.success).toBe(true);
    // An unknown field is dropped by both.
    const widened = Array.isArray(sample)
      ? sample.map((item: object) => ({ ...item, extra: 1 }))
      : { ...(sample as object), extra: 1 };
    const quick = reader.safeParse(widened);
    expect(quick.success).toBe(true);
    if (quick.success) expect(quick.data).toEqual(full.data);
  });

  it.each(cases)('%s: agree with the full schema on every one-field change', (_, reader, schema, sample) => {
    let checked = 0;
    for (const variant of variants(sample)) {
      expect([JSON.stringify(variant), reader.safeParse(variant).success]).toEqual([
        JSON.stringify(variant),
        schema.safeParse(variant).success,
      ]);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(5);
  });
});

/**
 * The `acp` provider: runs any Agent Client Protocol agent (claude-agent-acp, codex-acp, ...) on its
 * stdio with the official SDK. One run is one agent process and one prompt turn: `initialize`,
 * `session/new` (or `session/load` to continue a session), `session/prompt`. The agent's session
 * updates become Gantry events; its permission requests go through the binding's policy. A hub's
 * run outlives the daemon (`acp-process.ts`): a daemon that takes it back replays the conversation
 * from the spool and goes on with it.
 */
import { basename } from 'node:path';
import * as acp from '@agentclientprotocol/sdk/unstable';
import { clip, RunFailure, version, type FailureCode } from '@gantry/protocol';
import { binCheck } from './executable.ts';
import type { StopGraces } from './process-group.ts';
import { startAgent, type AgentProcess } from './acp-process.ts';
import type { Provider, ProviderCheck, RunOutcome, RunRequest } from './provider.ts';
import type { ProviderFactoryOptions } from './registry.ts';
import { SessionUpdates } from './acp-updates.ts';

const fix = 'pass --provider-bin PATH (an ACP agent, e.g. claude-agent-acp)';
/** How long a failed turn waits to see how the agent ended. */
const exitGraceMs = 3_000;
/** After the agent process exits, how long its stdout may still deliver what it wrote. */
const drainMs = 500;
const stopped = { code: 'cancelled', message: 'the run was stopped' } as const;

export function acpProvider(options: ProviderFactoryOptions): Provider {
  const { bin, graces } = options;
  const check = (): Promise<ProviderCheck> =>
    Promise.resolve(bin ? binCheck(bin, fix) : { ok: false, detail: `no ACP agent to run: ${fix}` });
  return {
    name: 'acp',
    envFamilies: envFamiliesFor(bin),
    check,
    async run(request, onSpawn) {
      const status = request.checked ?? (await check());
      if (!status.ok) return failed('provider_unavailable', status.detail);
      if (request.signal.aborted) return failed('cancelled', 'the run was stopped before it started');
      return runAgent(status.detail, request, graces, onSpawn);
    },
  };
}

/** The variables an agent needs, guessed from its name; others are passed with `--env-pass`. */
export function envFamiliesFor(bin: string | undefined): string[] {
  const name = basename(bin ?? '').toLowerCase();
  // IS_SANDBOX: as root, Claude refuses the adapter's bypassPermissions mode without it.
  if (name.includes('claude')) return ['ANTHROPIC_', 'CLAUDE_', 'IS_SANDBOX'];
  if (name.includes('codex')) return ['OPENAI_', 'CODEX_'];
  return [];
}

type Outcome = Omit<RunOutcome, 'exitCode' | 'pid'>;

async function runAgent(
  bin: string,
  request: RunRequest,
  graces: StopGraces,
  onSpawn: ((pid: number) => void) | undefined,
): Promise<RunOutcome> {
  const agent = await startAgent(bin, request, graces);
  if (typeof agent === 'string') return failed('spawn_failed', agent);
  onSpawn?.(agent.pid);

  const updates = new SessionUpdates(request.emit);
  let permissionCount = 0;
  const app = acp
    .client({ name: 'gantry' })
    .onNotification('session/update', ({ params }) => updates.apply(params.update))
    // Read leniently: a permission request the SDK's schema would refuse still gets an answer.
    .onRequest(
      'session/request_permission',
      (params: unknown) => params as acp.RequestPermissionRequest,
      ({ params }) => askPermission(params, agent, updates, ++permissionCount),
    );
  const connection = app.connect(acp.ndJsonStream(agent.input, agent.output));

  let sessionId: string | undefined;
  const onAbort = () => {
    if (sessionId) connection.agent.notify('session/cancel', { sessionId }).catch(() => undefined);
    void agent.stop();
  };
  request.signal.addEventListener('abort', onAbort, { once: true });

  let outcome: Outcome;
  try {
    // A leftover child can hold stdout open after the agent exits; its exit ends the turn too.
    const exitedEarly = agent.exited.then(async (exit) => {
      await settle(drainMs);
      throw exit.lost ?? new Error('exited');
    });
    outcome = await Promise.race([
      converse(connection.agent, request, updates, (id) => (sessionId = id)),
      exitedEarly,
    ]);
  } catch (err) {
    outcome = await failure(err, request, agent);
  } finally {
    request.signal.removeEventListener('abort', onAbort);
  }
  // However the agent ended a stopped turn (a `cancelled` answer, or none), it was stopped.
  if (request.signal.aborted) outcome = { ...outcome, status: 'failed', error: stopped };
  connection.close();
  const exit = await agent.finish();
  return { ...outcome, ...(sessionId ? { sessionId } : {}), exitCode: exit.code, pid: agent.pid };
}

/** initialize → session/new or session/load → session/prompt. */
async function converse(
  agent: acp.ClientContext,
  request: RunRequest,
  updates: SessionUpdates,
  onSession: (id: string) => void,
): Promise<Outcome> {
  const init = await agent.request('initialize', {
    protocolVersion: 1,
    clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
    clientInfo: { name: 'gantry', version },
  });
  if (init.protocolVersion !== 1)
    throw new RunFailure(
      'provider_failed',
      `the agent speaks ACP version ${init.protocolVersion}; Gantry speaks 1`,
    );
  const info = init.agentInfo;
  if (info) request.emit('log', { stream: 'provider', text: `ACP agent ${info.name} ${info.version}` });

  const cwd = request.workdir;
  let sessionId: string;
  if (request.resumeId) {
    sessionId = request.resumeId;
    await loadSession(agent, init, sessionId, cwd, updates);
  } else {
    sessionId = (await agent.request('session/new', { cwd, mcpServers: [] })).sessionId;
  }
  onSession(sessionId);
  request.emit('session', { id: sessionId, provider: 'acp', resumed: Boolean(request.resumeId) });

  const response = await agent.request('session/prompt', {
    sessionId,
    prompt: [{ type: 'text', text: request.assignment.prompt }],
  });
  await settle(); // updates that arrived before the response are still being handled
  const output = updates.finish(response.usage ?? undefined);
  const base = { output, details: updates.details() };
  switch (response.stopReason) {
    case 'end_turn':
      return { status: 'succeeded', ...base };
    case 'cancelled':
      return {
        status: 'failed',
        ...base,
        error: { code: 'cancelled', message: 'the agent cancelled the turn' },
      };
    case 'refusal':
      return { status: 'failed', ...base, error: { code: 'provider_failed', message: refusal(output) } };
    default:
      return {
        status: 'failed',
        ...base,
        error: { code: 'provider_failed', message: `the agent stopped the turn: ${response.stopReason}` },
      };
  }
}

/** Continues a session; the history the agent replays as updates is not this run's output. */
async function loadSession(
  agent: acp.ClientContext,
  init: acp.InitializeResponse,
  sessionId: string,
  cwd: string,
  updates: SessionUpdates,
): Promise<void> {
  if (!init.agentCapabilities?.loadSession)
    throw new RunFailure(
      'resume_failed',
      `the agent cannot load sessions (no loadSession capability), so ${sessionId} cannot continue`,
    );
  updates.replaying = true;
  try {
    await agent.request('session/load', { sessionId, cwd, mcpServers: [] });
    await settle();
  } catch (err) {
    if (err instanceof acp.RequestError)
      throw new RunFailure(
        'resume_failed',
        `the agent could not load session ${sessionId}: ${errorText(err)}`,
      );
    throw err;
  } finally {
    updates.endReplay();
  }
}

/** Asks the gateway and answers with the agent's own option for that decision. */
async function askPermission(
  params: acp.RequestPermissionRequest,
  agent: AgentProcess,
  updates: SessionUpdates,
  count: number,
): Promise<acp.RequestPermissionResponse> {
  const call = updates.asked(params.toolCall);
  const decision = await agent.askPermission({
    requestId: `${call.id}#${count}`,
    tool: call.name,
    input: call.input,
  });
  if (decision === 'denied') updates.denied(call.id);
  const kinds: acp.PermissionOptionKind[] =
    decision === 'approved' ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
  const options = Array.isArray(params.options) ? params.options : [];
  const option = kinds.map((kind) => options.find((o) => o.kind === kind)).find(Boolean);
  return { outcome: option ? { outcome: 'selected', optionId: option.optionId } : { outcome: 'cancelled' } };
}

/** What a failed exchange means: stopped, a refused resume, a crashed agent, or the agent's own error. */
async function failure(err: unknown, request: RunRequest, agent: AgentProcess): Promise<Outcome> {
  if (request.signal.aborted) return failed(stopped.code, stopped.message);
  if (err instanceof RunFailure) return failed(err.code, err.message);
  // An error answer comes from the agent; a closed connection (a plain Error) means it is gone.
  if (err instanceof acp.RequestError) return failed('provider_failed', errorText(err));
  // Say how it ended, with what it said on stderr.
  const exit = await Promise.race([agent.exited, settle(exitGraceMs).then(() => undefined)]);
  const how = !exit
    ? `closed its output (${(err as Error).message})`
    : exit.code === null
      ? `was killed by ${exit.signal}`
      : `exited with code ${exit.code}`;
  const tail = agent.stderrTail();
  return failed('provider_failed', `the ACP agent ${how} before the turn ended${tail ? `: ${tail}` : ''}`);
}

function failed(code: FailureCode, message: string): RunOutcome {
  return { status: 'failed', output: '', exitCode: null, error: { code, message } };
}

/** The agent's error message, with the detail it put in `data` when that says more. */
function errorText(err: acp.RequestError): string {
  const data = err.data as { message?: unknown; details?: unknown } | string | undefined;
  const detail =
    typeof data === 'string' ? data : typeof data?.message === 'string' ? data.message : data?.details;
  return typeof detail === 'string' && !err.message.includes(detail)
    ? `${err.message} (${detail})`
    : err.message;
}

function refusal(output: string): string {
  return output ? `the agent refused: ${clip(output, 500)}` : 'the agent refused the prompt';
}

/** Resolves after `ms`, or (without) once pending promise callbacks and I/O of this tick have run. */
function settle(ms?: number): Promise<void> {
  return new Promise((resolve) => (ms === undefined ? setImmediate(resolve) : setTimeout(resolve, ms)));
}

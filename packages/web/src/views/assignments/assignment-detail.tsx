/**
 * One assignment, its run streamed live: messages, tool calls (output folded), files, usage,
 * state changes; Cancel while it runs, Retry and Continue once it has ended; a worktree run's diff.
 */
import { useMemo } from 'react';
import type { Assignment } from '@gantry/protocol';
import { useAssignment } from '../../api/resources.ts';
import { Markdown } from '../../ui/markdown.tsx';
import { Page } from '../../ui/page.tsx';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { duration, Time } from '../../ui/time.tsx';
import { Link } from '../../ui/link.tsx';
import { Diff } from './diff.tsx';
import { RunActions } from './run-actions.tsx';
import { RunEntry } from './run-entry.tsx';
import { useRunStream } from './run-stream.ts';
import { isFinished } from './states.ts';
import { timeline } from './timeline.ts';

export function AssignmentDetail({ id }: { id: string }) {
  const assignment = useAssignment(id);
  const run = useRunStream(id);
  const entries = useMemo(() => timeline(run.events), [run.events]);

  if (assignment.error) return <ErrorNote error={assignment.error} />;
  if (!assignment.data) return <Loading what="the assignment" />;
  const a = assignment.data;
  const finished = isFinished(a.state);
  const files = changedFiles(a, entries);

  return (
    <Page
      title={
        <>
          <span className="muted">Assignment for</span> {a.agent.name}
        </>
      }
      subtitle={
        <>
          <Status value={a.state} />
          {run.reconnecting && (
            <>
              {' '}
              <Status value="reconnecting" text="Reconnecting…" />
            </>
          )}{' '}
          · created <Time iso={a.createdAt} />
          {a.startedAt && a.finishedAt && (
            <> · took {duration(Date.parse(a.finishedAt) - Date.parse(a.startedAt))}</>
          )}
        </>
      }
      actions={<RunActions assignment={a} />}
    >
      <section className="card" aria-label="Prompt">
        <Markdown text={a.prompt} />
        <dl className="facts compact">
          <div>
            <dt>Agent</dt>
            <dd>
              <Link to={`/agents/${encodeURIComponent(a.agent.name)}`}>{a.agent.name}</Link>
            </dd>
          </div>
          <div>
            <dt>Session</dt>
            <dd>
              <code>{a.sessionKey}</code> ({a.mode})
            </dd>
          </div>
          <div>
            <dt>Attempt</dt>
            <dd>
              {a.attempt} of {a.retries + 1}
            </dd>
          </div>
          <div>
            <dt>Timeout</dt>
            <dd>{duration(a.timeoutMs)}</dd>
          </div>
          <div>
            <dt>Chain</dt>
            <dd>
              <Link to={`/assignments/chains/${encodeURIComponent(a.chainId)}`}>
                {a.chainId === a.id ? 'its own' : a.chainId}
              </Link>
            </dd>
          </div>
          <div>
            <dt>Depth</dt>
            <dd>{a.depth}</dd>
          </div>
          <div>
            <dt>Id</dt>
            <dd>
              <code>{a.id}</code>
            </dd>
          </div>
        </dl>
      </section>

      <h2 className="section-title">Run</h2>
      <ol className="run" aria-label="Run events" aria-busy={!finished}>
        {entries.map((entry) => (
          <li key={entry.key}>
            <RunEntry entry={entry} />
          </li>
        ))}
        {entries.length === 0 && (
          <li className="muted">{finished ? 'This run recorded no events.' : 'Waiting for the agent…'}</li>
        )}
      </ol>

      {a.error && (
        <p className="note note-bad" role="alert">
          <strong>{a.state === 'timed_out' ? 'Timed out' : 'Failed'}:</strong> {a.error.message}{' '}
          <span className="muted">({a.error.code})</span>
        </p>
      )}
      {a.result && (
        <section className="card result" aria-label="Result">
          <h2 className="card-title">Result</h2>
          {a.result.output ? <Markdown text={a.result.output} /> : <p className="muted">No output.</p>}
          <dl className="facts compact">
            {a.result.exitCode !== null && (
              <div>
                <dt>Exit code</dt>
                <dd>{a.result.exitCode}</dd>
              </div>
            )}
            {a.result.branch && (
              <div>
                <dt>Branch</dt>
                <dd>
                  <code>{a.result.branch}</code>
                </dd>
              </div>
            )}
            {a.result.usage && (
              <div>
                <dt>Usage</dt>
                <dd>
                  {a.result.usage.inputTokens.toLocaleString()} tokens in,{' '}
                  {a.result.usage.outputTokens.toLocaleString()} out
                  {a.result.usage.costUsd !== undefined && <>, ${a.result.usage.costUsd.toFixed(4)}</>}
                </dd>
              </div>
            )}
          </dl>
        </section>
      )}
      {files.length > 0 && (
        <section aria-label="Files changed">
          <h2 className="section-title">Files changed</h2>
          <ul className="plain-list files">
            {files.map((f) => (
              <li key={f}>
                <code>{f}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      {patchOf(a) && (
        <section aria-label="Diff">
          <h2 className="section-title">Diff</h2>
          <Diff patch={patchOf(a) as string} />
        </section>
      )}
    </Page>
  );
}

/** The branch's patch, once the gateway sends it with the result of a worktree run. */
function patchOf(a: Assignment): string | undefined {
  const patch = (a.result as { patch?: unknown } | null)?.patch;
  return typeof patch === 'string' && patch ? patch : undefined;
}

function changedFiles(a: Assignment, entries: ReturnType<typeof timeline>): string[] {
  const files = new Set<string>(a.result?.changedFiles ?? []);
  for (const e of entries) if (e.kind === 'file') files.add(e.path);
  return [...files].sort();
}

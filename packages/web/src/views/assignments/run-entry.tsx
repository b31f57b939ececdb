/** One entry of a run's timeline. */
import { Markdown } from '../../ui/markdown.tsx';
import { Status } from '../../ui/status.tsx';
import { duration } from '../../ui/time.tsx';
import type { Entry } from './timeline.ts';

export function RunEntry({ entry }: { entry: Entry }) {
  switch (entry.kind) {
    case 'attempt':
      return <p className="run-attempt">Attempt {entry.attempt}</p>;
    case 'message':
      return (
        <div className="run-message">
          <Markdown text={entry.text} />
          {entry.streaming && <span className="muted small-text">writing…</span>}
        </div>
      );
    case 'tool':
      return (
        <details className="run-tool">
          <summary>
            <Status
              value={
                entry.status === 'completed' ? 'succeeded' : entry.status === 'running' ? 'running' : 'failed'
              }
              text={entry.status}
            />{' '}
            <strong>{entry.name}</strong> <code className="clip">{entry.input}</code>
            {entry.durationMs !== undefined && (
              <span className="muted small-text"> · {duration(entry.durationMs)}</span>
            )}
            {entry.exitCode !== undefined && entry.exitCode !== null && (
              <span className="muted small-text"> · exit {entry.exitCode}</span>
            )}
          </summary>
          {entry.input && <pre className="code">{entry.input}</pre>}
          {entry.output ? <pre className="code">{entry.output}</pre> : <p className="muted">No output.</p>}
        </details>
      );
    case 'file':
      return (
        <p className="run-line">
          <span className="tag">{entry.change}</span> <code>{entry.path}</code>
        </p>
      );
    case 'usage':
      return (
        <p className="run-line muted">
          Usage: {entry.inputTokens.toLocaleString()} tokens in, {entry.outputTokens.toLocaleString()} out
          {entry.costUsd !== undefined && <>, ${entry.costUsd.toFixed(4)}</>}
        </p>
      );
    case 'status':
      return (
        <p className="run-line muted">
          {entry.message}
          {entry.progress !== undefined && <> ({Math.round(entry.progress * 100)}%)</>}
        </p>
      );
    case 'permission':
      return (
        <div className="run-permission">
          <p>
            <Status
              value={entry.decision ?? 'pending'}
              text={entry.decision ? `${entry.decision} by ${entry.by}` : 'waiting for approval'}
            />{' '}
            asks to use <strong>{entry.tool}</strong>
          </p>
          <pre className="code">{entry.input}</pre>
        </div>
      );
    case 'error':
      return (
        <p className="note note-bad">
          {entry.message}
          {entry.code && <span className="muted"> ({entry.code})</span>}
        </p>
      );
    case 'log':
      return (
        <details className="run-log">
          <summary className="muted">
            {entry.stream === 'stderr' ? 'stderr' : 'output'}: {entry.text.split('\n').length} lines
          </summary>
          <pre className="code">{entry.text}</pre>
        </details>
      );
    case 'session':
      return (
        <p className="run-line muted">
          {entry.resumed ? 'Continued' : 'Started'} conversation <code>{entry.id}</code>
        </p>
      );
  }
}

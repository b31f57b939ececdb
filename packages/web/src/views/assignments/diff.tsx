/** A unified diff (a worktree run's patch) as text, its added and removed lines marked by sign and colour. */
import { useMemo } from 'react';

function lineClass(line: string): string {
  if (line.startsWith('diff --git') || line.startsWith('+++') || line.startsWith('---')) return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  return 'diff-ctx';
}

export function Diff({ patch }: { patch: string }) {
  const lines = useMemo(() => patch.replace(/\n$/, '').split('\n'), [patch]);
  const files = lines.filter((l) => l.startsWith('diff --git')).length;
  const added = lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length;
  const removed = lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).length;
  return (
    <figure className="diff">
      <figcaption className="muted">
        {files} {files === 1 ? 'file' : 'files'}, {added} lines added, {removed} removed
      </figcaption>
      <pre className="code diff-body" tabIndex={0} aria-label="Changes as a unified diff">
        {lines.map((line, i) => (
          <span key={i} className={lineClass(line)}>
            {line}
            {'\n'}
          </span>
        ))}
      </pre>
    </figure>
  );
}

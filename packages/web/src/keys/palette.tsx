/** The Mod+K command palette: go to a view, an agent or an action by typing part of its name. */
import { useId, useMemo, useState } from 'react';
import { useAgents } from '../api/resources.ts';
import { navigate } from '../router.ts';
import { Dialog } from '../ui/dialog.tsx';
import { views } from '../views.ts';

export interface Command {
  id: string;
  label: string;
  hint?: string;
  run(): void;
}

export function Palette({
  open,
  onClose,
  actions,
}: {
  open: boolean;
  onClose: () => void;
  actions: Command[];
}) {
  return (
    <Dialog open={open} onClose={onClose} label="Command palette" className="palette">
      <PaletteBody onClose={onClose} actions={actions} />
    </Dialog>
  );
}

function PaletteBody({ onClose, actions }: { onClose: () => void; actions: Command[] }) {
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const agents = useAgents();
  const listId = useId();

  const commands = useMemo<Command[]>(() => {
    const go = (label: string, to: string, hint?: string): Command => ({
      id: `go:${to}`,
      label,
      hint,
      run: () => {
        document.body.dataset.navigated = '1';
        navigate(to);
      },
    });
    return [
      ...views.map((v) => go(v.name, v.path, `g ${v.key}`)),
      ...actions,
      ...(agents.data ?? []).map((a) =>
        go(`Agent ${a.name}`, `/agents/${encodeURIComponent(a.name)}`, a.kind),
      ),
    ];
  }, [actions, agents.data]);

  const needle = text.trim().toLowerCase();
  const shown = needle
    ? commands.filter((c) => c.label.toLowerCase().includes(needle) || c.hint?.toLowerCase().includes(needle))
    : commands;
  const current = Math.min(active, shown.length - 1);

  const run = (command: Command | undefined) => {
    if (!command) return;
    onClose();
    command.run();
  };

  return (
    <div className="palette-body">
      <input
        className="palette-input"
        autoFocus
        role="combobox"
        aria-label="Command"
        aria-expanded="true"
        aria-controls={listId}
        aria-activedescendant={shown[current] ? `${listId}-${current}` : undefined}
        aria-autocomplete="list"
        placeholder="Go to a view, an agent, or run an action…"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setActive(0);
        }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((i) => Math.min(shown.length - 1, i + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((i) => Math.max(0, i - 1));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            run(shown[current]);
          }
        }}
      />
      <ul id={listId} role="listbox" aria-label="Commands" className="palette-list">
        {shown.length === 0 && (
          <li role="option" aria-selected="false" aria-disabled="true" className="muted palette-empty">
            Nothing matches “{text}”
          </li>
        )}
        {shown.map((c, i) => (
          <li
            key={c.id}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === current}
            className={i === current ? 'palette-item active' : 'palette-item'}
            onMouseMove={() => setActive(i)}
            onClick={() => run(c)}
          >
            <span>{c.label}</span>
            {c.hint && <span className="palette-hint">{c.hint}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

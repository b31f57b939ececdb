/**
 * Writing a message: `@` offers the workspace's agents and users (arrow keys and Enter or Tab to
 * pick), Mod+Enter sends. A reply carries its parent; the hub addresses the parent's author too.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Message } from '@gantry/protocol';
import { errorText, request } from '../../api/client.ts';
import { keys, useAgents, useUsers } from '../../api/resources.ts';
import { isMod } from '../../keys/typing.ts';

/** The `@word` being typed just before the caret, if any. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | undefined {
  const m = /(^|[\s(])@([\w.-]*)$/.exec(text.slice(0, caret));
  if (!m) return undefined;
  return { start: caret - (m[2] ?? '').length - 1, query: (m[2] ?? '').toLowerCase() };
}

export function Composer({
  parent,
  label = 'Message',
  onSent,
}: {
  parent?: Message;
  label?: string;
  onSent?: (message: Message) => void;
}) {
  const client = useQueryClient();
  const agents = useAgents();
  const users = useUsers();
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  const names = [
    ...(agents.data ?? []).map((a) => ({ name: a.name, what: `agent, ${a.kind.replace('_', '-')}` })),
    ...(users.data ?? []).map((u) => ({ name: u.handle, what: `user, ${u.role}` })),
  ];
  const mention = mentionAt(text, caret);
  const options = mention
    ? names.filter((n) => n.name.toLowerCase().startsWith(mention.query)).slice(0, 8)
    : [];
  const open = options.length > 0;
  const current = Math.min(active, options.length - 1);

  const pick = (name: string) => {
    if (!mention) return;
    const next = `${text.slice(0, mention.start)}@${name} ${text.slice(caret)}`;
    const at = mention.start + name.length + 2;
    setText(next);
    setCaret(at);
    setActive(0);
    requestAnimationFrame(() => {
      area.current?.setSelectionRange(at, at);
      area.current?.focus();
    });
  };

  const send = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(undefined);
    try {
      const message = await request<Message>('/v1/messages', {
        method: 'POST',
        body: { body: text, ...(parent ? { parentId: parent.id } : {}) },
      });
      setText('');
      void client.invalidateQueries({ queryKey: keys.messages });
      onSent?.(message);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (open && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      setActive((i) => (e.key === 'ArrowDown' ? Math.min(options.length - 1, i + 1) : Math.max(0, i - 1)));
    } else if (open && (e.key === 'Enter' || e.key === 'Tab') && !isMod(e.nativeEvent)) {
      e.preventDefault();
      pick(options[current]?.name ?? '');
    } else if (open && e.key === 'Escape') {
      e.preventDefault();
      setCaret(-1);
    } else if (e.key === 'Enter' && isMod(e.nativeEvent)) {
      e.preventDefault();
      void send();
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void send(e)}>
      <label className="field">
        <span>{label}</span>
        <div className="composer-box">
          <textarea
            ref={area}
            rows={3}
            // The palette's "Write a message" lands here ready to type.
            autoFocus={!parent && location.hash === '#compose'}
            value={text}
            placeholder={parent ? 'Write a reply… (@ to mention)' : 'Write to the workspace… (@ to mention)'}
            role="combobox"
            aria-expanded={open}
            aria-controls={`${id}-names`}
            aria-autocomplete="list"
            aria-activedescendant={open ? `${id}-${current}` : undefined}
            onChange={(e) => {
              setText(e.target.value);
              setCaret(e.target.selectionStart);
            }}
            onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
            onKeyDown={onKeyDown}
          />
          <ul
            id={`${id}-names`}
            role="listbox"
            aria-label="Names to mention"
            className="mentions"
            hidden={!open}
          >
            {options.map((o, i) => (
              <li
                key={o.name}
                id={`${id}-${i}`}
                role="option"
                aria-selected={i === current}
                className={i === current ? 'mention active' : 'mention'}
                onMouseDown={(e) => {
                  e.preventDefault();
                  pick(o.name);
                }}
              >
                @{o.name} <span className="muted small-text">{o.what}</span>
              </li>
            ))}
          </ul>
        </div>
      </label>
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <span className="muted small-text hint-keys">Mod+Enter sends</span>
        <button type="submit" className="button primary" disabled={busy || !text.trim()}>
          {parent ? 'Reply' : 'Send'}
        </button>
      </div>
    </form>
  );
}

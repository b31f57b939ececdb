/**
 * `j`/`k` move through the current view's main list, `Enter` opens the selected item, `a`/`d`
 * approve or deny it (Needs you). One list is active at a time: the one mounted last.
 */
import { useEffect, useId, useRef, useState } from 'react';

export interface ListHandlers {
  count: number;
  onOpen?: (index: number) => void;
  onApprove?: (index: number) => void;
  onDeny?: (index: number) => void;
}

interface ActiveList {
  move(delta: number): void;
  key(key: 'Enter' | 'a' | 'd'): boolean;
}

let active: ActiveList | undefined;

/** Called by the global key handler; true when the active list used the key. */
export function listKey(key: string): boolean {
  if (!active) return false;
  if (key === 'j' || key === 'ArrowDown') return (active.move(1), true);
  if (key === 'k' || key === 'ArrowUp') return (active.move(-1), true);
  if (key === 'Enter' || key === 'a' || key === 'd') return active.key(key);
  return false;
}

export interface ListKeys {
  /** The selected index, -1 for none; always inside the list as it shrinks. */
  selected: number;
  /** Props for item `index`: it is focused when selected (screen readers and the scroll follow). */
  item(index: number): {
    'data-list-item': string;
    tabIndex: -1;
    onFocus: () => void;
    'aria-current': 'true' | undefined;
  };
}

export function useListKeys(handlers: ListHandlers): ListKeys {
  const id = useId();
  const [chosen, setChosen] = useState(-1);
  const selected = Math.min(chosen, handlers.count - 1);
  const latest = useRef({ handlers, selected });
  useEffect(() => {
    latest.current = { handlers, selected };
  });

  useEffect(() => {
    const list: ActiveList = {
      move(delta) {
        const { handlers: h, selected: s } = latest.current;
        if (h.count === 0) return;
        const next = s < 0 ? (delta > 0 ? 0 : h.count - 1) : Math.min(h.count - 1, Math.max(0, s + delta));
        setChosen(next);
        requestAnimationFrame(() => {
          const item = document.querySelector<HTMLElement>(
            `[data-list-item="${CSS.escape(`${id}:${next}`)}"]`,
          );
          item?.focus();
          item?.scrollIntoView({ block: 'nearest' });
        });
      },
      key(key) {
        const { handlers: h, selected: s } = latest.current;
        if (s < 0 || s >= h.count) return false;
        const run = key === 'Enter' ? h.onOpen : key === 'a' ? h.onApprove : h.onDeny;
        if (!run) return false;
        run(s);
        return true;
      },
    };
    const previous = active;
    active = list;
    return () => {
      if (active === list) active = previous;
    };
  }, [id]);

  return {
    selected,
    item: (index) => ({
      'data-list-item': `${id}:${index}`,
      tabIndex: -1,
      onFocus: () => setChosen(index),
      'aria-current': index === selected ? 'true' : undefined,
    }),
  };
}

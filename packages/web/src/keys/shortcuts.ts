/**
 * The global keyboard: Mod+K palette, `g` then a letter to change view, `?` for help, and list keys
 * for the current view. Nothing fires while typing in a field or with a dialog open.
 */
import { useEffect } from 'react';
import { navigate } from '../router.ts';
import { views } from '../views.ts';
import { listKey } from './list-keys.ts';
import { isMod, isTyping } from './typing.ts';

/** How long after `g` the second key counts. */
const chordMs = 1500;

export interface ShortcutHandlers {
  openPalette(): void;
  openHelp(): void;
}

/** Whether the target activates on Enter by itself (a button, a link, a summary). */
function handlesEnter(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && target.closest('button, a, summary, [role="button"]') !== null;
}

export function useShortcuts({ openPalette, openHelp }: ShortcutHandlers): void {
  useEffect(() => {
    let gAt = 0;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.isComposing) return;
      if (isMod(event) && event.key.toLowerCase() === 'k' && !event.altKey && !event.shiftKey) {
        event.preventDefault();
        openPalette();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (isTyping(event.target) || document.querySelector('dialog[open]')) return;
      const key = event.key;
      if (gAt && Date.now() - gAt < chordMs) {
        gAt = 0;
        const view = views.find((v) => v.key === key.toLowerCase());
        if (view) {
          event.preventDefault();
          document.body.dataset.navigated = '1';
          navigate(view.path);
        }
        return;
      }
      if (key === 'g') {
        gAt = Date.now();
        return;
      }
      if (key === '?') {
        event.preventDefault();
        openHelp();
        return;
      }
      if (key === 'Enter' && handlesEnter(event.target)) return;
      if (listKey(key)) event.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openPalette, openHelp]);
}

/** Every shortcut, for the `?` dialog. */
export const shortcutList: { keys: string[]; what: string }[] = [
  { keys: ['Mod', 'K'], what: 'Command palette' },
  ...views.map((v) => ({ keys: ['g', v.key], what: `Go to ${v.name}` })),
  { keys: ['j'], what: 'Next item in the list' },
  { keys: ['k'], what: 'Previous item in the list' },
  { keys: ['Enter'], what: 'Open the selected item' },
  { keys: ['a'], what: 'Approve the selected Needs you item' },
  { keys: ['d'], what: 'Deny (or dismiss) the selected Needs you item' },
  { keys: ['?'], what: 'Show these shortcuts' },
];

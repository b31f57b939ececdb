/** The `?` dialog: every keyboard shortcut. */
import { Dialog } from '../ui/dialog.tsx';
import { shortcutList } from './shortcuts.ts';

const modName = /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} label="Keyboard shortcuts">
      <div className="dialog-body">
        <div className="dialog-head">
          <h2>Keyboard shortcuts</h2>
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </div>
        <p className="muted">Shortcuts never fire while you type in a field.</p>
        <table className="shortcuts">
          <tbody>
            {shortcutList.map((s) => (
              <tr key={s.what}>
                <td>
                  {s.keys.map((k, i) => (
                    <span key={i}>
                      {i > 0 && (s.keys[0] === 'g' ? ' then ' : ' + ')}
                      <kbd>{k === 'Mod' ? modName : k}</kbd>
                    </span>
                  ))}
                </td>
                <td>{s.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Dialog>
  );
}

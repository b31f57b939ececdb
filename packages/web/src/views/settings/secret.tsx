/** A secret the hub shows once (a new token): copy it now, it is never shown again. */
import { useState } from 'react';

export function OnceSecret({ secret, what, onDone }: { secret: string; what: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="note note-warn" role="status">
      <p>
        <strong>{what}</strong> — shown once; copy it now.
      </p>
      <p className="secret">
        <code>{secret}</code>
      </p>
      <div className="form-actions">
        <button
          type="button"
          className="button"
          onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

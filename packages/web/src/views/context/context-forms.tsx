/** Setting a value, uploading a file (streamed to the hub as is), deleting an entry. */
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { errorText, request, segment } from '../../api/client.ts';
import { keys } from '../../api/resources.ts';
import { navigate } from '../../router.ts';
import { announce } from '../../ui/announcer.tsx';

export function ContextForms() {
  const client = useQueryClient();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [fileKey, setFileKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const file = useRef<HTMLInputElement>(null);

  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    try {
      const saved = await work();
      announce(`Saved ${saved}`);
      await client.invalidateQueries({ queryKey: keys.context });
      navigate(`/context/${encodeURIComponent(saved)}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const setEntry = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await request(`/v1/context/${segment(key.trim())}`, { method: 'PUT', body: { value } });
      setValue('');
      return key.trim();
    });
  };
  const upload = (event: FormEvent) => {
    event.preventDefault();
    const chosen = file.current?.files?.[0];
    if (!chosen) return;
    const target = fileKey.trim() || chosen.name;
    void run(async () => {
      await request(`/v1/context/${segment(target)}/file`, {
        method: 'PUT',
        raw: { body: chosen, contentType: chosen.type || 'application/octet-stream' },
      });
      setFileKey('');
      if (file.current) file.current.value = '';
      return target;
    });
  };

  return (
    <details className="card more-card">
      <summary>Set a value or upload a file</summary>
      <div className="two-forms">
        <form onSubmit={setEntry} aria-label="Set a value">
          <label className="field">
            <span>Key</span>
            <input
              value={key}
              required
              placeholder="notes/release"
              onChange={(e) => setKey(e.target.value)}
            />
          </label>
          <label className="field">
            <span>Value</span>
            <textarea value={value} rows={3} onChange={(e) => setValue(e.target.value)} />
          </label>
          <button type="submit" className="button primary" disabled={busy || !key.trim()}>
            Set value
          </button>
        </form>
        <form onSubmit={upload} aria-label="Upload a file">
          <label className="field">
            <span>File</span>
            <input type="file" ref={file} required />
          </label>
          <label className="field">
            <span>Key (default: the file name)</span>
            <input value={fileKey} placeholder="builds/latest" onChange={(e) => setFileKey(e.target.value)} />
          </label>
          <button type="submit" className="button primary" disabled={busy}>
            Upload
          </button>
        </form>
      </div>
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}

export function DeleteEntry({ entryKey }: { entryKey: string }) {
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  const remove = async () => {
    try {
      await request(`/v1/context/${segment(entryKey)}`, { method: 'DELETE' });
      announce(`Deleted ${entryKey}`);
      await client.invalidateQueries({ queryKey: keys.context });
      navigate('/context');
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div className="form-actions">
      {confirming ? (
        <>
          <span>Delete {entryKey}?</span>
          <button type="button" className="button" onClick={() => setConfirming(false)}>
            Keep
          </button>
          <button type="button" className="button danger" onClick={() => void remove()}>
            Delete
          </button>
        </>
      ) : (
        <button type="button" className="button ghost" onClick={() => setConfirming(true)}>
          Delete…
        </button>
      )}
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

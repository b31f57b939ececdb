/** Users and their roles; owners and admins add (the new token shown once) and remove them. */
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { User } from '@gantry/protocol';
import { errorText, request, segment } from '../../api/client.ts';
import { keys, useUsers } from '../../api/resources.ts';
import { isAdmin, useMe } from '../../api/session.ts';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';
import { OnceSecret } from './secret.tsx';

export function Users() {
  const me = useMe();
  const client = useQueryClient();
  const users = useUsers();
  const [handle, setHandle] = useState('');
  const [role, setRole] = useState('member');
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<string>();
  const admin = isAdmin(me);

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const created = await request<{ user: User; token: string }>('/v1/users', {
        method: 'POST',
        body: { handle: handle.trim(), role },
      });
      setSecret(created.token);
      setHandle('');
      await client.invalidateQueries({ queryKey: keys.users });
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async (user: User) => {
    if (!window.confirm(`Remove ${user.handle}? Their tokens stop working at once.`)) return;
    setError(undefined);
    try {
      await request(`/v1/users/${segment(user.handle)}`, { method: 'DELETE' });
      await client.invalidateQueries({ queryKey: keys.users });
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section className="card settings-section" id="users" aria-labelledby="users-title">
      <h2 id="users-title" className="card-title">
        Users
      </h2>
      {users.error ? (
        <ErrorNote error={users.error} />
      ) : !users.data ? (
        <Loading what="users" />
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Handle</th>
              <th scope="col">Role</th>
              <th scope="col">Added</th>
              {admin && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td data-label="Handle">
                  {u.handle}
                  {u.id === me.user.id && <span className="muted"> (you)</span>}
                </td>
                <td data-label="Role">{u.role}</td>
                <td data-label="Added">
                  <Time iso={u.createdAt} />
                </td>
                {admin && (
                  <td data-label="Actions">
                    {u.id !== me.user.id && (
                      <button
                        type="button"
                        className="button small ghost"
                        onClick={() => void remove(u)}
                        aria-label={`Remove ${u.handle}`}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {secret && (
        <OnceSecret secret={secret} what="The new user's token" onDone={() => setSecret(undefined)} />
      )}
      {admin && (
        <form className="toolbar-form" onSubmit={(e) => void add(e)} aria-label="Add a user">
          <label className="field grow">
            <span>Handle</span>
            <input
              value={handle}
              required
              pattern="[a-z0-9][a-z0-9._\-]{0,62}"
              onChange={(e) => setHandle(e.target.value)}
            />
          </label>
          <label className="field">
            <span>Role</span>
            <select value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="member">member</option>
              <option value="admin">admin</option>
              {me.user.role === 'owner' && <option value="owner">owner</option>}
            </select>
          </label>
          <button type="submit" className="button primary">
            Add user
          </button>
        </form>
      )}
      {error && (
        <p className="note note-bad" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

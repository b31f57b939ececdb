/** The audit log (owners and admins): who did what to what, newest first. */
import { useAudit } from '../../api/resources.ts';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Time } from '../../ui/time.tsx';

export function Audit() {
  const audit = useAudit();
  return (
    <section className="card settings-section" id="audit" aria-labelledby="audit-title">
      <h2 id="audit-title" className="card-title">
        Audit log
      </h2>
      {audit.error ? (
        <ErrorNote error={audit.error} />
      ) : !audit.data ? (
        <Loading what="the audit log" />
      ) : audit.data.length === 0 ? (
        <p className="muted">Nothing audited yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Subject</th>
            </tr>
          </thead>
          <tbody>
            {audit.data.map((e) => (
              <tr key={e.id}>
                <td data-label="When">
                  <Time iso={e.ts} />
                </td>
                <td data-label="Actor">{e.actor}</td>
                <td data-label="Action">{e.action.replace(/_/g, ' ')}</td>
                <td data-label="Subject">
                  <code className="clip">{e.subject}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Gateways and their devices: host, version, last contact, agents served; a gateway opens its fingerprint and trust. */
import { useState } from 'react';
import { useGateway, useGateways } from '../../api/resources.ts';
import { ErrorNote, Loading } from '../../ui/states.tsx';
import { Status } from '../../ui/status.tsx';
import { Time } from '../../ui/time.tsx';

export function Gateways() {
  const gateways = useGateways();
  const [open, setOpen] = useState<string>();
  return (
    <section className="card settings-section" id="gateways" aria-labelledby="gateways-title">
      <h2 id="gateways-title" className="card-title">
        Gateways and devices
      </h2>
      {gateways.error ? (
        <ErrorNote error={gateways.error} />
      ) : !gateways.data ? (
        <Loading what="gateways" />
      ) : gateways.data.length === 0 ? (
        <p className="muted">No gateway has connected yet.</p>
      ) : (
        <ul className="plain-list gateways">
          {gateways.data.map((g) => (
            <li key={g.id}>
              <button
                type="button"
                className="disclosure"
                aria-expanded={open === g.id}
                onClick={() => setOpen(open === g.id ? undefined : g.id)}
              >
                <strong>{g.name}</strong>{' '}
                <Status
                  value={g.connected ? 'live' : 'offline'}
                  text={g.connected ? 'connected' : 'offline'}
                />{' '}
                <span className="muted small-text">
                  {g.hostname ?? 'unknown host'} · {g.version ?? 'unknown version'} · seen{' '}
                  <Time iso={g.lastSeenAt} /> · {g.agents.map((a) => a.name).join(', ') || 'no agents'}
                </span>
              </button>
              {open === g.id && <GatewayDevice id={g.id} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function GatewayDevice({ id }: { id: string }) {
  const detail = useGateway(id);
  if (detail.error) return <ErrorNote error={detail.error} />;
  if (!detail.data) return <Loading what="the gateway" />;
  const g = detail.data;
  return (
    <dl className="facts compact device">
      <div>
        <dt>Device</dt>
        <dd>
          {g.device ? (
            <>
              <code className="clip">{g.device.fingerprint}</code> · {g.device.osUser}@{g.device.hostname}
            </>
          ) : (
            'no device key recorded'
          )}
        </dd>
      </div>
      <div>
        <dt>Trust</dt>
        <dd>
          <Status value={g.approval === 'trusted' ? 'approved' : g.approval} text={g.approval} />
        </dd>
      </div>
      {g.agents.map((a) => (
        <div key={a.id}>
          <dt>{a.name}</dt>
          <dd>
            {a.provider ?? 'no provider'} · {a.trust}
            {a.binding && (
              <>
                {' '}
                · <code>{a.binding.workdir ?? 'workspace root'}</code>
                {a.binding.isolation && <> · {a.binding.isolation}</>}
              </>
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

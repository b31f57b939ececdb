/** The hub's web settings for `hub start` and `up`: flags > environment (`GANTRY_*`) > defaults. */
import { readFileSync } from 'node:fs';
import { GantryError } from '@gantry/protocol';
import type { HubOptions } from '@gantry/hub';
import { dashboardRoot } from './web-root.ts';

export interface HubWebFlags {
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export function hubWebOptions(
  flags: HubWebFlags,
  env = process.env,
): Pick<HubOptions, 'publicUrl' | 'tls' | 'webRoot' | 'sessionLimits'> {
  const publicUrl = flags.publicUrl ?? (env.GANTRY_PUBLIC_URL || undefined);
  const linkTtl = env.GANTRY_SIGNIN_LINK_TTL_MS;
  const linkTtlMs = linkTtl === undefined || linkTtl === '' ? undefined : Number(linkTtl);
  if (linkTtlMs !== undefined && (!Number.isInteger(linkTtlMs) || linkTtlMs <= 0))
    throw new GantryError(
      'invalid_request',
      'GANTRY_SIGNIN_LINK_TTL_MS must be a positive number of milliseconds',
    );
  return {
    ...(publicUrl ? { publicUrl } : {}),
    ...tlsFiles(flags),
    webRoot: dashboardRoot(),
    ...(linkTtlMs ? { sessionLimits: { linkTtlMs } } : {}),
  };
}

function tlsFiles(flags: HubWebFlags): Pick<HubOptions, 'tls'> {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return {};
  if (flags.tlsCert === undefined || flags.tlsKey === undefined)
    throw new GantryError('invalid_request', '--tls-cert and --tls-key go together: give both, or neither');
  return { tls: { cert: readPem(flags.tlsCert, '--tls-cert'), key: readPem(flags.tlsKey, '--tls-key') } };
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new GantryError('invalid_request', `cannot read ${flag} ${path} (${reason})`);
  }
}

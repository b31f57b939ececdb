/**
 * Who a `/v1` request speaks for: its bearer token, or (without an Authorization header) the
 * dashboard's session cookie, whose state-changing requests must also carry the CSRF token.
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrfHeader, GantryError, webSessionCookie } from '@gantry/protocol';
import { authenticate, type Caller } from '../auth/authenticate.ts';
import { revocationsHeardOn } from '../auth/revocation.ts';
import { authenticateSession, csrfMatches } from '../auth/web-session.ts';
import type { HubContext } from '../context.ts';
import type { HubEnv } from './request.ts';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function authenticateRequest(ctx: HubContext, c: Context<HubEnv>): Promise<Caller> {
  const header = c.req.header('authorization');
  const cookie = header === undefined ? getCookie(c, webSessionCookie) : undefined;
  if (cookie === undefined) {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    // Counted before the read: a revocation after it moves the count, and a long-poll reads again.
    const revocationsHeard = revocationsHeardOn(ctx.bus);
    return { ...(await authenticate(ctx.store, token)), revocationsHeard };
  }
  let signedIn;
  try {
    signedIn = await authenticateSession(ctx.store, cookie, ctx.web.limits);
  } catch (err) {
    // A dead session's cookie is of no more use: the browser drops it.
    clearSessionCookie(ctx, c);
    throw err;
  }
  if (!safeMethods.has(c.req.method) && !csrfMatches(signedIn.session.csrf_hash, c.req.header(csrfHeader)))
    throw new GantryError('forbidden', 'missing or wrong CSRF token');
  return signedIn.caller;
}

/** HttpOnly (scripts never read it), SameSite=Strict (no other site's page sends it), Secure on https. */
export function setSessionCookie(
  ctx: HubContext,
  c: Context<HubEnv>,
  secret: string,
  expiresAt: number,
): void {
  setCookie(c, webSessionCookie, secret, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: ctx.web.secureCookies,
    maxAge: Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000)),
  });
}

export function clearSessionCookie(ctx: HubContext, c: Context<HubEnv>): void {
  deleteCookie(c, webSessionCookie, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: ctx.web.secureCookies,
  });
}

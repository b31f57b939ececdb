/** `POST /v1/auth/exchange`: a long-lived token in, a short-lived access token (JWT) out (DESIGN §5). */
import { Hono } from 'hono';
import { GantryError, type AccessToken } from '@gantry/protocol';
import { isAccessToken, signAccessToken } from '../auth/jwt.ts';
import type { HubContext } from '../context.ts';
import { caller, type HubEnv } from './request.ts';

export function authRoutes(ctx: HubContext): Hono<HubEnv> {
  const routes = new Hono<HubEnv>();
  routes.post('/exchange', async (c) => {
    // An access token cannot renew itself: only its long-lived token can, so revoking that one is final.
    const bearer = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? '';
    if (isAccessToken(bearer))
      throw new GantryError('invalid_request', 'exchange needs a long-lived token, not an access token');
    const who = caller(c);
    // A browser session stays a cookie: it never becomes a bearer token a script could carry off.
    if (who.sessionId)
      throw new GantryError('invalid_request', 'exchange needs a long-lived token, not a browser session');
    // A run token is short-lived already and valid only while its run goes on: it is used as it is.
    if (who.run) throw new GantryError('invalid_request', 'a run token is used as it is, not exchanged');
    const { accessToken, expiresAt } = await signAccessToken(ctx.store, {
      sub: who.id,
      kind: who.kind,
      workspaceId: who.workspaceId,
      tokenId: who.tokenId,
    });
    const body: AccessToken = { accessToken, expiresAt, tokenId: who.tokenId };
    return c.json(body);
  });
  return routes;
}

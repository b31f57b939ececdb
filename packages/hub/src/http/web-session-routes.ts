/**
 * The dashboard's sign-in under `/v1/web`: `POST /session` (a user token or a one-time code in, a
 * session cookie out; needs no credential, see `publicRoute` in app.ts), `GET|DELETE /session` (who
 * is signed in; sign-out) and `POST /links` (a one-time sign-in link).
 */
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { webSessionCookie, webSignInSchema } from '@gantry/protocol';
import type { Caller } from '../auth/authenticate.ts';
import { csrfTokenFor, sessionEnded } from '../auth/web-session.ts';
import type { HubContext } from '../context.ts';
import { createSigninLink, sessionView, signIn, signOut, type WebSessionDeps } from '../auth/web-sign-in.ts';
import { clearSessionCookie, setSessionCookie } from './authenticate-request.ts';
import { caller, jsonBody, type HubEnv } from './request.ts';

function deps(ctx: HubContext): WebSessionDeps {
  return { store: ctx.store, bus: ctx.bus, limits: ctx.web.limits };
}

export function webSessionRoutes(ctx: HubContext): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  // Open to anyone holding a user token or a sign-in code.
  app.post('/session', async (c) => {
    const input = await jsonBody(c, webSignInSchema);
    const opened = await signIn(deps(ctx), input);
    setSessionCookie(ctx, c, opened.secrets.secret, opened.expiresAt);
    return c.json(await sessionView(ctx.store, opened.caller, opened.secrets.csrfToken, opened.expiresAt));
  });
  app.get('/session', async (c) => {
    const who = sessionCaller(caller(c));
    const secret = getCookie(c, webSessionCookie) ?? '';
    const row = await ctx.store.tokens.session(who.sessionId);
    if (!row) throw sessionEnded();
    return c.json(await sessionView(ctx.store, who, csrfTokenFor(secret), row.expires_at));
  });
  app.delete('/session', async (c) => {
    const who = sessionCaller(caller(c));
    await signOut(ctx, who.sessionId);
    clearSessionCookie(ctx, c);
    return c.body(null, 204);
  });
  app.post('/links', async (c) =>
    c.json(await createSigninLink(deps(ctx), caller(c), ctx.web.baseUrl()), 201),
  );
  return app;
}

/** Only a browser session has a session to show or end; a bearer token is not signed in. */
function sessionCaller(who: Caller): Caller & { sessionId: string } {
  if (!who.sessionId) throw sessionEnded();
  return who as Caller & { sessionId: string };
}

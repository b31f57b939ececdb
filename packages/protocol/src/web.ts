/** The dashboard's sign-in: browser sessions (`/v1/web/session`) and one-time sign-in links (`/v1/web/links`). */
import * as z from 'zod';
import { roleSchema } from './users.ts';

/** The cookie that carries a browser session (HttpOnly, SameSite=Strict). */
export const webSessionCookie = 'gantry_session';
/** The header every state-changing request made with the session cookie carries. */
export const csrfHeader = 'X-CSRF-Token';

/** `POST /v1/web/session`: a user token, or the code of a one-time sign-in link. */
export const webSignInSchema = z.union([
  z.strictObject({ token: z.string().min(1).max(4096) }),
  z.strictObject({ code: z.string().min(1).max(256) }),
]);
export type WebSignIn = z.infer<typeof webSignInSchema>;

/** What `POST` and `GET /v1/web/session` answer. */
export const webSessionSchema = z.object({
  user: z.object({ id: z.string(), name: z.string(), role: roleSchema }),
  workspace: z.object({ id: z.string(), name: z.string() }),
  csrfToken: z.string(),
  /** Epoch milliseconds: the session ends then at the latest (sooner when idle or signed out). */
  expiresAt: z.number().int(),
});
export type WebSession = z.infer<typeof webSessionSchema>;

/** `POST /v1/web/links`: a one-time sign-in link. */
export const signinLinkSchema = z.object({
  url: z.string(),
  /** Epoch milliseconds: after this the code is refused. */
  expiresAt: z.number().int(),
});
export type SigninLink = z.infer<typeof signinLinkSchema>;

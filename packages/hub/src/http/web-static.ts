/**
 * The built dashboard at `/`: files from the web root (pre-compressed `.br`/`.gz` when the browser
 * takes them), `index.html` for any other page path (client routing), a strict CSP. Hashed files
 * under `/assets/` never change, so browsers keep them a year; `index.html` is re-checked each load.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import type { HubEnv } from './request.ts';

export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

export const notBuiltText = 'the dashboard is not built: run npm run build\n';

const immutable = 'public, max-age=31536000, immutable';

export function webRoutes(webRoot: string | undefined): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  // Made once a build is there (serveStatic complains about a missing root when made).
  let serve: { files: MiddlewareHandler<HubEnv>; index: MiddlewareHandler<HubEnv> } | undefined;
  const none = () => Promise.resolve();

  app.get('*', async (c, next) => {
    const path = c.req.path;
    if (isApiPath(path)) return next();
    securityHeaders(c);
    // Checked on every request, so a build made while the hub runs is served at once.
    if (!webRoot || !existsSync(join(webRoot, 'index.html'))) {
      c.header('Cache-Control', 'no-store');
      return c.text(notBuiltText, 404);
    }
    serve ??= {
      files: serveStatic<HubEnv>({ root: webRoot, precompressed: true }),
      index: serveStatic<HubEnv>({ root: webRoot, path: 'index.html', precompressed: true }),
    };
    c.header('Vary', 'Accept-Encoding');
    c.header('Cache-Control', path.startsWith('/assets/') ? immutable : 'no-cache');
    const file = await serve.files(c, none);
    if (file) return file;
    // A missing file is a 404; a page path is the dashboard's own route.
    if (path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(path)) {
      c.header('Cache-Control', 'no-store');
      return c.text('not found\n', 404);
    }
    c.header('Cache-Control', 'no-cache');
    return (await serve.index(c, none)) ?? c.text(notBuiltText, 404);
  });
  return app;
}

function isApiPath(path: string): boolean {
  return /^\/(v1|mcp)(\/|$)/.test(path);
}

function securityHeaders(c: Context<HubEnv>): void {
  c.header('Content-Security-Policy', contentSecurityPolicy);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
}

// The chat page for people: a few static files (plain HTML, CSS and JS modules, no build step) in
// api/chat-page/, served at `/` before the API-key middleware (the page signs in with a tenant key itself and
// sends it as a Bearer header; it is never in a URL), under a strict Content-Security-Policy. The page asks
// `/chat/config.json` where the Temporal Web UI is, to link each turn to its workflow.
import path from 'node:path';
import express, { Router, type Response } from 'express';

/** Where the page's files are. */
export const CHAT_PAGE_DIR = path.join(import.meta.dirname, 'chat-page');

/**
 * The page loads its own scripts, styles and images (charts are same-origin signed URLs) and talks to its own
 * API, nothing else: no inline script or style, no framing, no form posting anywhere (a form submitted
 * without its script would otherwise put the key in a URL).
 */
export const CHAT_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What the page is told about the deployment. */
export interface ChatPageDeps {
  /** The Temporal Web UI that shows this deployment's turns (TEMPORAL_UI_URL, or `npm start`'s own); absent: no link. */
  temporalUi?: { url: string; namespace: string };
}

function pageHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy': CHAT_PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    // Revalidated on every load, so a new release's page is never mixed with an old script.
    'Cache-Control': 'no-cache',
  });
}

/** GET / (the page), /chat/* (its files), /chat/config.json (where the Temporal Web UI is). */
export function chatPageRoutes(deps: ChatPageDeps = {}): Router {
  const router = Router();
  const config = JSON.stringify({
    temporalUi: deps.temporalUi ? { url: deps.temporalUi.url.replace(/\/+$/, ''), namespace: deps.temporalUi.namespace } : null,
  });

  router.get('/', (_req, res) => {
    pageHeaders(res);
    res.sendFile(path.join(CHAT_PAGE_DIR, 'index.html'));
  });
  router.get(['/chat', '/chat/'], (_req, res) => res.redirect(302, '/'));
  router.get('/chat/config.json', (_req, res) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).type('application/json').send(config);
  });
  router.use(
    '/chat',
    express.static(CHAT_PAGE_DIR, {
      index: false,
      dotfiles: 'ignore',
      redirect: false,
      setHeaders: (res) => pageHeaders(res as Response),
    }),
  );
  return router;
}

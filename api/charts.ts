import { Router, type Response } from 'express';
import { CHART_ID, chartOwner, loadChart } from '../activities/charts/store.ts';
import type { Queryable } from '../infra/db.ts';
import { tenantOf } from './auth.ts';
import type { ChartUrlSigner } from './chart-urls.ts';
import { ApiError } from './errors.ts';

/** What the chart routes need. */
export interface ChartRoutesDeps {
  appDb: Queryable;
  /** Checks the signed URLs the API hands out (api/chart-urls.ts). */
  chartUrls: ChartUrlSigner;
}

const CONTENT_TYPES = { svg: 'image/svg+xml; charset=utf-8', png: 'image/png' } as const;

function chartFile(file: unknown): { id: string; format: 'svg' | 'png' } {
  const match = /^([^.]+)\.(svg|png)$/.exec(String(file ?? ''));
  if (!match?.[1] || !CHART_ID.test(match[1])) throw new ApiError(404, 'chart_not_found', 'No such chart');
  return { id: match[1], format: match[2] as 'svg' | 'png' };
}

/** Sends a chart with the headers of an immutable image; `cacheControl` says who may keep it, and how long. */
function sendChart(req: { get(name: string): string | undefined }, res: Response, id: string, format: 'svg' | 'png', body: string | Buffer, cacheControl: string): void {
  const etag = `"${id}"`;
  res.set({
    'Content-Type': CONTENT_TYPES[format],
    'Cache-Control': cacheControl,
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
    // An SVG opened on its own is a document: it may run nothing and load nothing.
    ...(format === 'svg' ? { 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" } : {}),
  });
  // Checked after the load, so a 304 is only ever the tenant's own chart.
  if ((req.get('if-none-match') ?? '').split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    res.status(304).end();
    return;
  }
  res.send(body);
}

const REFUSALS = {
  missing: ['chart_url_unsigned', 'This chart URL carries no signature: use the URL of a `chart` event or GET /v1/turns/:id, or send Authorization: Bearer <api key>'],
  expired: ['chart_url_expired', 'This chart URL has expired: GET /v1/turns/:id gives a fresh one'],
  invalid: ['chart_url_invalid', 'This chart URL is not valid'],
} as const;

/**
 * GET /v1/charts/<id>.svg|.png?exp=…&sig=… without an API key: what a browser's <img> loads. Mounted before the
 * API key check; a request with an Authorization header goes on to the Bearer route (`chartRoutes`). A missing,
 * expired or tampered signature, or one made for another tenant's chart, is a 403.
 */
export function signedChartRoutes(deps: ChartRoutesDeps): Router {
  const router = Router();
  router.get('/v1/charts/:file', async (req, res, next) => {
    if (req.get('authorization') !== undefined) return next();
    const { id, format } = chartFile(req.params.file);
    const { exp, sig } = req.query;
    // The signature binds the chart's own tenant: a URL signed for another tenant does not verify here.
    const tenantId = exp === undefined && sig === undefined ? null : await chartOwner(deps.appDb, id);
    const verdict = tenantId === null ? (exp === undefined && sig === undefined ? 'missing' : 'invalid') : deps.chartUrls.verify(tenantId, id, exp, sig);
    if (verdict !== 'ok') {
      const [code, message] = REFUSALS[verdict];
      throw new ApiError(403, code, message);
    }
    const body = await loadChart(deps.appDb, tenantId!, id, format);
    if (body === null) throw new ApiError(403, REFUSALS.invalid[0], REFUSALS.invalid[1]);
    // `private`: no shared cache (CDN, proxy) may store it, so no copy is served past the signature's expiry to
    // someone who never had the URL; the browser keeps it until the URL expires, no longer.
    sendChart(req, res, id, format, body, `private, max-age=${deps.chartUrls.secondsLeft(exp)}, immutable`);
  });
  return router;
}

/**
 * GET /v1/charts/<id>.svg|.png with `Authorization: Bearer <api key>`: one of the calling tenant's rendered
 * charts. Ids are content hashes, so a response never changes and is cached for a year, by the client only
 * (`private`: a shared cache must not hand an authenticated response to requests without the key); a
 * malformed, unknown or other tenant's id is a 404.
 */
export function chartRoutes(deps: Pick<ChartRoutesDeps, 'appDb'>): Router {
  const router = Router();
  router.get('/v1/charts/:file', async (req, res) => {
    const tenantId = tenantOf(req);
    const { id, format } = chartFile(req.params.file);
    const body = await loadChart(deps.appDb, tenantId, id, format);
    if (body === null) throw new ApiError(404, 'chart_not_found', 'No such chart');
    sendChart(req, res, id, format, body, 'private, max-age=31536000, immutable');
  });
  return router;
}

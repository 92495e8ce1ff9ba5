import { Router } from 'express';
import { CHART_ID, loadChart } from '../activities/charts/store.ts';
import type { Queryable } from '../infra/db.ts';
import { tenantOf } from './auth.ts';
import { ApiError } from './errors.ts';

/** What the chart routes need. */
export interface ChartRoutesDeps {
  appDb: Queryable;
}


const CONTENT_TYPES = { svg: 'image/svg+xml; charset=utf-8', png: 'image/png' } as const;

/**
 * GET /v1/charts/<id>.svg|.png: one of the calling tenant's rendered charts. Ids are content hashes, so a
 * response never changes and is cached for a year; a malformed, unknown or other tenant's id is a 404.
 */
export function chartRoutes(deps: ChartRoutesDeps): Router {
  const router = Router();

  router.get('/v1/charts/:file', async (req, res) => {
    const tenantId = tenantOf(req);
    const match = /^([^.]+)\.(svg|png)$/.exec(String(req.params.file ?? ''));
    const notFound = new ApiError(404, 'chart_not_found', 'No such chart');
    if (!match?.[1] || !CHART_ID.test(match[1])) throw notFound;
    const id = match[1];
    const format = match[2] as 'svg' | 'png';
    const etag = `"${id}"`;
    const body = await loadChart(deps.appDb, tenantId, id, format);
    if (body === null) throw notFound;
    res.set({
      'Content-Type': CONTENT_TYPES[format],
      'Cache-Control': 'public, max-age=31536000, immutable',
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
  });

  return router;
}

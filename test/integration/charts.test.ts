// Charts stored and served: content-addressed and tenant-scoped, against a real store (PGlite in-process),
// and GET /v1/charts/:file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import express from 'express';
import type { ChartData } from '../../activities/charts/chart-spec.ts';
import { renderChart } from '../../activities/charts/render.ts';
import { ensureChart, type ChartRenderer } from '../../activities/charts/ensure-chart.ts';
import { chartExists, loadChart } from '../../activities/charts/store.ts';
import { chartRoutes } from '../../api/charts.ts';
import { errorHandler } from '../../api/errors.ts';
import { listen } from '../../api/server.ts';
import type { Queryable } from '../../infra/db.ts';
import { createLogger } from '../../infra/logger.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const byCategory: ChartData = {
  columns: ['category', 'revenue'],
  rows: [['Shoes', '12345.50'], ['Outdoor & Garden', 8000], ['Electronics', 45210.2], ['Toys', 950]],
  metric: 'revenue',
  dimension: 'category',
  title: 'Revenue by category',
};
const byMonth: ChartData = { columns: ['month', 'orders'], rows: [['2024-01', 120], ['2024-02', 135], ['2024-03', 160], ['2024-04', 150]] };

describe('storage and serving (PGlite)', () => {
  let pg: PGlite;
  let db: Queryable;
  let renders = 0;
  const countingRender: ChartRenderer = async (spec, rows) => (renders++, renderChart(spec, rows));

  before(async () => {
    pg = await PGlite.create({ extensions: { vector } });
    const dir = path.join(import.meta.dirname, '../../infra/migrations');
    for (const file of ['001_init.sql', '002_understanding.sql', '003_knowledge.sql', '004_charts.sql']) await pg.exec(readFileSync(path.join(dir, file), 'utf8'));
    await pg.query("INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')");
    db = {
      query: async (sql: string, params?: unknown[]) => {
        const r = await pg.query<Record<string, unknown>>(sql, params);
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
      },
    } as Queryable;
  });
  after(async () => {
    await pg.close();
  });

  it('ensureChart renders and stores an identical chart once', async () => {
    renders = 0;
    const first = await ensureChart(db, 'acme', byCategory, countingRender);
    assert.ok(first);
    assert.equal(renders, 1);
    const again = await ensureChart(db, 'acme', byCategory, countingRender);
    assert.deepEqual(again, first);
    // Concurrent identical requests share one render too.
    const month = await Promise.all([1, 2, 3].map(() => ensureChart(db, 'acme', byMonth, countingRender)));
    assert.equal(renders, 2);
    assert.equal(new Set(month.map((m) => m?.id)).size, 1);
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM charts WHERE tenant_id = 'acme'");
    assert.equal(rows[0]?.n, 2);
    assert.equal(await ensureChart(db, 'acme', { columns: ['category', 'revenue'], rows: [['Shoes', 1]] }, countingRender), null);
    assert.equal(renders, 2);
  });

  it('loadChart is tenant-scoped', async () => {
    const chart = (await ensureChart(db, 'acme', byCategory, countingRender))!;
    const svg = await loadChart(db, 'acme', chart.id, 'svg');
    assert.equal(typeof svg, 'string');
    assert.ok(String(svg).includes('>Electronics<'));
    const png = await loadChart(db, 'acme', chart.id, 'png');
    assert.ok(Buffer.isBuffer(png) && png.subarray(0, 8).equals(PNG_SIGNATURE));
    assert.equal(await chartExists(db, 'acme', chart.id), true);
    assert.equal(await chartExists(db, 'globex', chart.id), false);
    assert.equal(await loadChart(db, 'globex', chart.id, 'svg'), null);
    assert.equal(await loadChart(db, 'globex', chart.id, 'png'), null);
    assert.equal(await loadChart(db, 'acme', '0'.repeat(32), 'png'), null);
    // The same data for another tenant is another chart, stored on its own.
    const theirs = (await ensureChart(db, 'globex', byCategory, countingRender))!;
    assert.notEqual(theirs.id, chart.id);
  });

  describe('GET /v1/charts/:file', () => {
    let api: Awaited<ReturnType<typeof listen>>;
    let base: string;
    let id: string;
    before(async () => {
      id = (await ensureChart(db, 'acme', byCategory, countingRender))!.id;
      const app = express();
      // Stands in for the auth middleware.
      app.use((req, _res, next) => {
        req.tenantId = req.get('x-tenant') || undefined;
        next();
      });
      app.use(chartRoutes({ appDb: db }));
      app.use(errorHandler(createLogger('silent')));
      api = await listen(app, 0, '127.0.0.1');
      base = `http://127.0.0.1:${api.port}`;
    });
    after(async () => {
      await api.close();
    });
    const get = (file: string, tenant = 'acme', headers: Record<string, string> = {}) => fetch(`${base}/v1/charts/${file}`, { headers: { 'x-tenant': tenant, ...headers } });

    async function expect404(res: Response) {
      assert.equal(res.status, 404);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'chart_not_found');
      assert.equal(res.headers.get('cache-control'), null);
    }

    it('200 with immutable caching, by the client only (the request carries a key), for the SVG and the PNG', async () => {
      const svg = await get(`${id}.svg`);
      assert.equal(svg.status, 200);
      assert.equal(svg.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
      assert.equal(svg.headers.get('cache-control'), 'private, max-age=31536000, immutable');
      assert.equal(svg.headers.get('etag'), `"${id}"`);
      assert.ok((await svg.text()).includes('>Electronics<'));

      const png = await get(`${id}.png`);
      assert.equal(png.status, 200);
      assert.equal(png.headers.get('content-type'), 'image/png');
      assert.equal(png.headers.get('cache-control'), 'private, max-age=31536000, immutable');
      assert.equal(png.headers.get('etag'), `"${id}"`);
      const bytes = Buffer.from(await png.arrayBuffer());
      assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE));
      assert.ok(bytes.equals((await loadChart(db, 'acme', id, 'png')) as Buffer));
    });

    it('304 for a matching If-None-Match', async () => {
      const res = await get(`${id}.png`, 'acme', { 'if-none-match': `"${id}"` });
      assert.equal(res.status, 304);
    });

    it("404 for another tenant's chart, an unknown id and a malformed id", async () => {
      await expect404(await get(`${id}.svg`, 'globex'));
      await expect404(await get(`${id}.png`, 'globex', { 'if-none-match': `"${id}"` }));
      await expect404(await get(`${'0'.repeat(32)}.png`));
      for (const bad of [`${id}.gif`, `${id.toUpperCase()}.svg`, `${id.slice(1)}.svg`, `${id}`, 'x.svg', `${id}.svg.png`]) await expect404(await get(bad));
    });

    it('401 without a tenant', async () => {
      const res = await fetch(`${base}/v1/charts/${id}.svg`);
      assert.equal(res.status, 401);
    });
  });
});

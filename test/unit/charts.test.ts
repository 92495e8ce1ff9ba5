// Charts for analytics answers: which chart a result's shape calls for, deterministic rendering, and
// content-addressed, tenant-scoped storage and serving against a real store (PGlite in-process).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import express from 'express';
import { chartRecords, chartSpecFor, chartWanted, type ChartData } from '../../activities/charts/chart-spec.ts';
import { renderChart, RENDERER_VERSION } from '../../activities/charts/render.ts';
import { chartId, ensureChart, type ChartRenderer } from '../../activities/charts/ensure-chart.ts';
import { chartExists, loadChart } from '../../activities/charts/store.ts';
import { chartRoutes } from '../../api/charts.ts';
import { errorHandler } from '../../api/errors.ts';
import { listen } from '../../api/server.ts';
import type { Queryable } from '../../infra/db.ts';
import { createLogger } from '../../infra/logger.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const byCategory: ChartData = {
  columns: ['category', 'revenue'],
  // Postgres numeric arrives as a string through pg.
  rows: [['Shoes', '12345.50'], ['Outdoor & Garden', 8000], ['Electronics', 45210.2], ['Toys', 950]],
  metric: 'revenue',
  dimension: 'category',
  title: 'Revenue by category',
};
const byMonth: ChartData = { columns: ['month', 'orders'], rows: [['2024-01', 120], ['2024-02', 135], ['2024-03', 160], ['2024-04', 150]] };

interface LayerSpec {
  mark?: string | { type: string };
  encoding?: Record<string, { field?: string; type?: string; sort?: unknown }>;
  layer?: LayerSpec[];
  data?: { name?: string; values?: unknown };
}

function markTypes(spec: LayerSpec): string[] {
  const own = spec.mark ? [typeof spec.mark === 'string' ? spec.mark : spec.mark.type] : [];
  return [...own, ...(spec.layer ?? []).flatMap(markTypes)];
}

describe('chart spec choice', () => {
  it('a time series is a line chart over a temporal x', () => {
    const spec = chartSpecFor(byMonth) as LayerSpec;
    assert.deepEqual(markTypes(spec), ['line']);
    assert.equal(spec.encoding?.x?.field, 'month');
    assert.equal(spec.encoding?.x?.type, 'temporal');
    assert.equal(spec.data?.name, 'table');
    assert.equal(spec.data?.values, undefined, 'the spec carries no data');
  });

  it('ISO dates in the first column make a time series whatever the column is called', () => {
    const spec = chartSpecFor({ columns: ['d', 'sales'], rows: [['2024-03-01', 5], ['2024-03-02', 7], ['2024-03-03', 6]] }) as LayerSpec;
    assert.deepEqual(markTypes(spec), ['line']);
    assert.equal(spec.encoding?.x?.type, 'temporal');
  });

  it('periods that are not dates (quarters, years) are an ordinal x, in the order returned', () => {
    const spec = chartSpecFor({ columns: ['quarter', 'revenue'], rows: [['2023-Q1', 10], ['2023-Q2', 12], ['2023-Q3', 9]] }) as LayerSpec;
    assert.deepEqual(markTypes(spec), ['line']);
    assert.equal(spec.encoding?.x?.type, 'ordinal');
    const years = chartSpecFor({ columns: ['year', 'orders'], rows: [[2022, 10], [2023, 12]] }) as LayerSpec;
    assert.deepEqual(markTypes(years), ['line']);
    assert.equal(years.encoding?.x?.field, 'year');
    assert.equal(years.encoding?.y?.field, 'orders');
  });

  it('categories are a horizontal bar chart sorted by value', () => {
    const spec = chartSpecFor(byCategory) as LayerSpec;
    assert.ok(markTypes(spec).includes('bar'));
    assert.equal(spec.encoding?.y?.field, 'category');
    assert.equal(spec.encoding?.y?.type, 'nominal');
    assert.equal(spec.encoding?.x?.field, 'revenue');
    assert.equal(spec.encoding?.x?.type, 'quantitative');
    assert.deepEqual(spec.encoding?.y?.sort, { field: 'revenue', op: 'sum', order: 'descending' });
  });

  it('the metric slot picks among several numeric columns', () => {
    const data = { columns: ['category', 'orders', 'revenue'], rows: [['a', 1, 10], ['b', 2, 20]] };
    assert.equal((chartSpecFor({ ...data, metric: 'revenue' }) as LayerSpec).encoding?.x?.field, 'revenue');
    assert.equal((chartSpecFor(data) as LayerSpec).encoding?.x?.field, 'orders');
  });

  it('a metric with gaps (NULL) still charts; the gaps stay null for the renderer', () => {
    const data = { columns: ['category', 'revenue'], rows: [['a', '10'], ['b', null], ['c', 5]] };
    assert.ok(chartSpecFor(data));
    assert.deepEqual(chartRecords(data), [{ category: 'a', revenue: 10 }, { category: 'b', revenue: null }, { category: 'c', revenue: 5 }]);
  });

  it('dates become UTC epoch ms for the renderer, whatever the host time zone', () => {
    const data = { columns: ['day', 'orders'], rows: [['2024-03-01', 1], ['2024-03-02T10:00:00', 2], [new Date(Date.UTC(2024, 2, 3)), 3]] };
    assert.deepEqual(chartRecords(data).map((r) => r.day), [Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 2, 10), Date.UTC(2024, 2, 3)]);
  });

  it('no chart for a single row, no numeric column, or a lone column', () => {
    assert.equal(chartSpecFor({ columns: ['category', 'revenue'], rows: [['Shoes', 10]] }), null);
    assert.equal(chartSpecFor({ columns: ['category', 'revenue'], rows: [] }), null);
    assert.equal(chartSpecFor({ columns: ['name', 'email'], rows: [['a', 'a@x'], ['b', 'b@x']] }), null);
    assert.equal(chartSpecFor({ columns: ['revenue'], rows: [[1], [2]] }), null);
  });

  it('bars for up to 30 categories, none beyond', () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => [`product ${i}`, i + 1]);
    assert.ok(chartSpecFor({ columns: ['product', 'units'], rows: rows(30) }));
    assert.equal(chartSpecFor({ columns: ['product', 'units'], rows: rows(31) }), null);
  });

  it('a chart is wanted when asked for, or for a dimension with at least two rows', () => {
    assert.equal(chartWanted({ chart: true }, 1), true);
    assert.equal(chartWanted({ dimension: 'category' }, 2), true);
    assert.equal(chartWanted({ dimension: 'category' }, 1), false);
    assert.equal(chartWanted({}, 10), false);
    assert.equal(chartWanted({ chart: false, dimension: 'month' }, 10), false);
  });
});

describe('rendering', () => {
  it('draws an SVG with the category labels and a PNG', async () => {
    const { svg, png } = await renderChart(chartSpecFor(byCategory)!, chartRecords(byCategory));
    assert.match(svg, /^<svg[\s>]/);
    assert.match(svg, /<\/svg>$/);
    for (const label of ['Shoes', 'Outdoor &amp; Garden', 'Electronics', 'Toys', 'Revenue by category']) assert.ok(svg.includes(`>${label}<`), label);
    assert.match(svg, /font-family="DejaVu Sans"/);
    // Well-formed enough for a browser: every opened element is closed, in order.
    const stack: string[] = [];
    for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
      if (selfClosing) continue;
      if (close) assert.equal(stack.pop(), name);
      else stack.push(name!);
    }
    assert.equal(stack.length, 0);
    assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE));
    // 2x scale: the PNG is twice the SVG's width.
    const svgWidth = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
    assert.equal(png.readUInt32BE(16), Math.round(svgWidth * 2));
  });

  it('the same input renders to identical bytes, however many charts came before', async () => {
    const spec = chartSpecFor(byCategory)!;
    const first = await renderChart(spec, chartRecords(byCategory));
    await Promise.all([renderChart(chartSpecFor(byMonth)!, chartRecords(byMonth)), renderChart(spec, chartRecords(byCategory))]);
    const again = await renderChart(spec, chartRecords(byCategory));
    assert.equal(again.svg, first.svg);
    assert.ok(again.png.equals(first.png));
  });

  it('the renderer version names every input to the pixels', () => {
    for (const name of ['vega@', 'vega-lite@', 'resvg@', 'dejavu-fonts-ttf@']) assert.ok(RENDERER_VERSION.includes(name), name);
  });
});

describe('chart ids', () => {
  const spec = chartSpecFor(byCategory)!;
  const rows = chartRecords(byCategory);
  it('the same input has the same id, whatever the key order', () => {
    const id = chartId('acme', spec, rows);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(chartId('acme', JSON.parse(JSON.stringify(spec)) as object, rows), id);
    const reordered = rows.map((r) => Object.fromEntries(Object.entries(r).reverse()));
    assert.equal(chartId('acme', spec, reordered), id);
  });
  it('another tenant, spec or data has another id', () => {
    const id = chartId('acme', spec, rows);
    assert.notEqual(chartId('globex', spec, rows), id);
    assert.notEqual(chartId('acme', chartSpecFor({ ...byCategory, title: 'Other' })!, rows), id);
    assert.notEqual(chartId('acme', spec, rows.slice(1)), id);
  });
});

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

    it('200 with immutable caching for the SVG and the PNG', async () => {
      const svg = await get(`${id}.svg`);
      assert.equal(svg.status, 200);
      assert.equal(svg.headers.get('content-type'), 'image/svg+xml; charset=utf-8');
      assert.equal(svg.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(svg.headers.get('etag'), `"${id}"`);
      assert.ok((await svg.text()).includes('>Electronics<'));

      const png = await get(`${id}.png`);
      assert.equal(png.status, 200);
      assert.equal(png.headers.get('content-type'), 'image/png');
      assert.equal(png.headers.get('cache-control'), 'public, max-age=31536000, immutable');
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

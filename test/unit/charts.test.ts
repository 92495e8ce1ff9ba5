// Charts for analytics answers: which chart a result's shape calls for, deterministic rendering and
// content-addressed ids. Storage and serving on a real store: test/integration/charts.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartRecords, chartSpecFor, chartWanted, type ChartData } from '../../activities/charts/chart-spec.ts';
import { renderChart, RENDERER_VERSION } from '../../activities/charts/render.ts';
import { chartId } from '../../activities/charts/ensure-chart.ts';

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

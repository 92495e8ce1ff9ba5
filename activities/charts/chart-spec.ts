// Which chart (if any) an analytics result calls for, as a Vega-Lite spec without data: the rows are
// injected by name (`table`) when rendering, so one spec serves the server-side renderer and a client.
import { compile, type TopLevelSpec } from 'vega-lite';

/** An analytics query result, with the understood slots that help pick a chart. */
export interface ChartData {
  columns: string[];
  rows: unknown[][];
  metric?: string;
  dimension?: string;
  title?: string;
}

/** The name the spec's data source has; renderers (and clients) insert the rows under it. */
export const CHART_DATA_NAME = 'table';

/** Categorical results with more rows than this are not charted: the bars would be unreadable. */
export const MAX_BAR_ROWS = 30;

/** A time series longer than this is not charted (a chat answer never needs it; it bounds render time). */
export const MAX_LINE_ROWS = 1000;

/** The font the charts are measured and drawn with (bundled, see render.ts). */
export const CHART_FONT = 'DejaVu Sans';

const TIME_WORDS = /(^|[_\s-])(date|day|week|month|quarter|year)s?($|[_\s-])/i;
// ISO 8601 dates and timestamps ("2024-03", "2024-03-05", "2024-03-05T10:00:00Z"): what SQL date columns become.
const ISO_DATE = /^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?$/;

function isNumeric(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'bigint') return true;
  // Postgres numeric and bigint arrive as strings through pg.
  return typeof v === 'string' && v.trim() !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim());
}


/** Epoch milliseconds of a date-like value, reading a timestamp without an offset as UTC (never the host's zone). */
export function utcMillis(v: unknown): number | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (typeof v !== 'string' || !ISO_DATE.test(v.trim())) return null;
  let s = v.trim().replace(' ', 'T');
  // Postgres writes offsets as "+02" or "+0200"; JavaScript reads only "+02:00".
  s = s.replace(/(T[\d:.]+[+-]\d{2}):?(\d{2})?$/, (_, head: string, mm?: string) => `${head}:${mm ?? '00'}`);
  if (/T/.test(s) && !/(Z|[+-]\d{2}:\d{2})$/.test(s)) s += 'Z';
  if (/^\d{4}-\d{2}$/.test(s)) s += '-01';
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

function column(data: ChartData, i: number): unknown[] {
  return data.rows.map((r) => r[i]);
}

function allOf(values: unknown[], test: (v: unknown) => boolean): boolean {
  const present = values.filter((v) => v !== null && v !== undefined);
  return present.length > 0 && present.length === values.length && present.every(test);
}

// Vega-Lite reads "." and brackets in a field name as nested access; SQL aliases may contain them.
function field(name: string): string {
  return name.replace(/[.[\]\\]/g, (c) => `\\${c}`);
}

function humanize(name: string): string {
  const s = name.replace(/_/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The period a time series steps by; picks the axis ticks and label format. */
export type TimeGrain = 'day' | 'week' | 'month' | 'quarter' | 'year';

/** How a result maps onto a chart: which column is the dimension, which the metric, and the chart kind. */
export interface ChartShape {
  kind: 'line' | 'bar';
  dimension: string;
  metric: string;
  /** For line charts: true when the x values are real dates (a UTC time scale), false for ordinal periods. */
  temporal: boolean;
  grain?: TimeGrain;
}

function grainOf(names: (string | undefined)[], dates: number[]): TimeGrain {
  for (const name of names) {
    const word = name && TIME_WORDS.exec(name)?.[2]?.toLowerCase();
    if (word && word !== 'date') return word as TimeGrain;
  }
  const at = dates.map((ms) => new Date(ms));
  if (at.every((d) => d.getUTCDate() === 1 && d.getUTCMonth() === 0)) return 'year';
  if (at.every((d) => d.getUTCDate() === 1)) return at.every((d) => d.getUTCMonth() % 3 === 0) && at.length > 2 ? 'quarter' : 'month';
  return 'day';
}

function isDateLike(v: unknown): boolean {
  return utcMillis(v) !== null;
}

/** The chart a result's shape calls for, or null (a single row, no numeric metric, no dimension, too many categories). */
export function chartShape(data: ChartData): ChartShape | null {
  const { columns, rows } = data;
  if (rows.length < 2 || columns.length < 2) return null;
  // A metric may have gaps (NULL for a period without sales): the chart leaves them out.
  const numeric = columns.map((_, i) => {
    const present = column(data, i).filter((v) => v !== null && v !== undefined);
    return present.length >= 2 && present.every(isNumeric);
  });
  const byName = (name?: string) => (name ? columns.findIndex((c) => c.toLowerCase() === name.toLowerCase()) : -1);

  const timeSlot = !!data.dimension && TIME_WORDS.test(data.dimension);
  let dim = byName(data.dimension);
  if (dim < 0) dim = columns.findIndex((c, i) => TIME_WORDS.test(c) || !numeric[i]);
  // e.g. ['year', 'orders'] where both are numbers: the first column is still the one to plot against.
  if (dim < 0) dim = 0;

  let metric = byName(data.metric);
  if (metric < 0 || metric === dim || !numeric[metric]) metric = numeric.findIndex((n, i) => n && i !== dim);
  if (metric < 0) return null;

  const dimValues = column(data, dim);
  const temporal = allOf(dimValues, isDateLike);
  const isTime = temporal || timeSlot || TIME_WORDS.test(columns[dim]!);
  const shape = { dimension: columns[dim]!, metric: columns[metric]! };
  if (isTime) {
    if (rows.length > MAX_LINE_ROWS) return null;
    const grain = temporal ? grainOf([data.dimension, columns[dim]], dimValues.map((v) => utcMillis(v)!)) : undefined;
    return { kind: 'line', ...shape, temporal, ...(grain ? { grain } : {}) };
  }
  return rows.length <= MAX_BAR_ROWS ? { kind: 'bar', ...shape, temporal: false } : null;
}

// Ticks on period starts with labels that name the period; Vega's automatic ticks would put weekly
// ticks ("Jan 07") under monthly data.
function timeAxis(grain: TimeGrain, points: number): Record<string, unknown> {
  const every = (perYear: number) => Math.max(1, Math.ceil(points / perYear));
  switch (grain) {
    case 'year':
      return { format: '%Y', tickCount: { interval: 'year', step: every(12) } };
    case 'quarter':
      return { format: 'Q%q %Y', tickCount: { interval: 'month', step: 3 * every(8) } };
    case 'month':
      return { format: '%b %Y', tickCount: { interval: 'month', step: every(12) } };
    default:
      return { format: '%b %-d' };
  }
}

// Bar values printed at the bar's end: money-like amounts with at most two decimals, small ratios with three digits.
function valueFormat(data: ChartData, metric: string): string {
  const i = data.columns.indexOf(metric);
  const max = Math.max(...data.rows.map((r) => Math.abs(Number(r[i]) || 0)));
  return max > 0 && max < 1 ? '.3~g' : ',.2~f';
}

/**
 * A Vega-Lite spec (data by name, `table`) for the result, or null when no chart fits. The spec is
 * compiled once here so that only specs the renderer can draw ever leave this function.
 */
export function chartSpecFor(data: ChartData): object | null {
  const shape = chartShape(data);
  if (!shape) return null;
  const d = field(shape.dimension);
  const m = field(shape.metric);
  const format = valueFormat(data, shape.metric);
  const metricTitle = humanize(shape.metric);
  const tooltip = [
    { field: d, type: shape.temporal ? 'temporal' : 'nominal', title: humanize(shape.dimension) },
    { field: m, type: 'quantitative', title: metricTitle, format },
  ];
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(data.title ? { title: data.title } : {}),
    // Rows from SQL may carry numbers (and dates) as strings: parse them in the spec, so a client that
    // feeds the raw rows draws the same chart as the server.
    data: { name: CHART_DATA_NAME, format: { parse: { [shape.metric]: 'number', ...(shape.temporal ? { [shape.dimension]: 'date' } : {}) } } },
    background: 'white',
    padding: 12,
    config: {
      font: CHART_FONT,
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, labelColor: '#333', titleColor: '#333', gridColor: '#e6e6e6', domainColor: '#999', tickColor: '#999' },
      title: { fontSize: 14, anchor: 'start', color: '#222', offset: 10 },
    },
  };
  let spec: Record<string, unknown>;
  if (shape.kind === 'line') {
    const x = shape.temporal
      ? // UTC so the axis reads the same on every machine, whatever its time zone.
        { field: d, type: 'temporal', scale: { type: 'utc' }, title: humanize(shape.dimension), axis: { labelOverlap: true, grid: false, ...timeAxis(shape.grain ?? 'day', data.rows.length) } }
      : // Periods like "2024-Q1" or 2023: kept in the order the query returned them.
        { field: d, type: 'ordinal', sort: null, title: humanize(shape.dimension), axis: { labelAngle: 0, labelOverlap: true } };
    spec = {
      ...common,
      width: 560,
      height: 280,
      mark: { type: 'line', point: data.rows.length <= 60 ? { color: '#3b6fd4' } : false, strokeWidth: 2, color: '#3b6fd4' },
      encoding: { x, y: { field: m, type: 'quantitative', title: metricTitle, scale: { zero: true } }, tooltip },
    };
  } else {
    spec = {
      ...common,
      width: 480,
      height: { step: 22 },
      encoding: {
        // Largest first; an explicit sort (not '-x'), which both layers share without a conflict.
        y: { field: d, type: 'nominal', sort: { field: m, op: 'sum', order: 'descending' }, title: null, axis: { labelLimit: 200, ticks: false } },
        x: { field: m, type: 'quantitative', title: metricTitle, axis: { labelOverlap: true } },
        tooltip,
      },
      layer: [
        { mark: { type: 'bar', color: '#3b6fd4', cornerRadiusEnd: 2 } },
        { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 10, color: '#333' }, encoding: { text: { field: m, type: 'quantitative', format } } },
      ],
    };
  }
  try {
    compile(spec as unknown as TopLevelSpec);
  } catch {
    return null;
  }
  return spec;
}

/**
 * The rows as records for the renderer: metric values as numbers and real dates as UTC epoch ms, so the
 * rendering does not depend on the host's time zone or on how the driver typed the values.
 */
export function chartRecords(data: ChartData): Record<string, unknown>[] {
  const shape = chartShape(data);
  return data.rows.map((row) => {
    const rec: Record<string, unknown> = {};
    data.columns.forEach((c, i) => {
      const v = row[i];
      if (shape && c === shape.metric && isNumeric(v)) rec[c] = Number(v);
      else if (shape?.temporal && c === shape.dimension) rec[c] = utcMillis(v);
      else if (typeof v === 'bigint') rec[c] = v.toString();
      else if (v instanceof Date) rec[c] = v.toISOString();
      else rec[c] = v;
    });
    return rec;
  });
}

/** Whether the answer should carry a chart: asked for (`chart: true`), or a dimension with at least two rows. */
export function chartWanted(slots: { chart?: boolean; dimension?: string }, rowCount: number): boolean {
  if (slots.chart === false) return false;
  return slots.chart === true || (!!slots.dimension && rowCount >= 2);
}

// The offline model's answer to a prompt carrying query results (a `<data …>` block): the figure, or the
// figures by the breakdown with their total and the metric's definition, in words a shop manager reads.

/** A `<data …>` block of the system prompt (activities/sql/prompts.ts `buildDataBlock`): attributes and CSV rows. */
export interface DataBlock {
  attrs: Record<string, string>;
  columns: string[];
  rows: string[][];
}

export function readDataBlock(system: string): DataBlock | null {
  const m = /<data\b([^>]*)>([\s\S]*?)<\/data>/i.exec(system);
  if (!m) return null;
  const attrs: Record<string, string> = {};
  for (const a of (m[1] ?? '').matchAll(/([a-z_]+)="([^"]*)"/gi)) {
    attrs[(a[1] ?? '').toLowerCase()] = (a[2] ?? '').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  const lines = (m[2] ?? '').split(/\r?\n/).filter((l) => l.trim());
  const [header, ...rows] = lines.map(csvLine);
  return { attrs, columns: header ?? [], rows };
}

/** One CSV line: commas split, double quotes group and `""` escapes a quote (the block keeps each row on one line). */
function csvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      cells.push(cell);
      cell = '';
    } else {
      cell += c;
    }
  }
  cells.push(cell);
  return cells;
}

const METRIC_NAMES: Record<string, string> = {
  revenue: 'Revenue',
  orders: 'Orders',
  units: 'Units sold',
  customers: 'Customers',
  aov: 'Average order value',
  rating: 'Average rating',
  returns: 'Returns',
  cancellations: 'Cancellations',
};
const PERIOD_LABELS: Record<string, string> = { ytd: 'year to date', mtd: 'month to date', qtd: 'quarter to date' };

/** `1234567.891` → `1,234,567.89` with `decimals` places; no locale data, so the same on every machine. */
function grouped(n: number, decimals: number): string {
  const [int = '0', frac] = Math.abs(n).toFixed(decimals).split('.');
  const body = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 && Number(Math.abs(n).toFixed(decimals)) !== 0 ? '-' : ''}${body}${frac ? `.${frac}` : ''}`;
}

function formatValue(raw: string | undefined, unit: string): string {
  const text = (raw ?? '').trim();
  const n = text === '' ? NaN : Number(text);
  if (!Number.isFinite(n)) return text || 'no value';
  if (unit === 'usd') return n < 0 ? `-$${grouped(-n, 2)}` : `$${grouped(n, 2)}`;
  if (unit === 'stars') return `${n.toFixed(2)} stars`;
  return grouped(Math.round(n), 0);
}

/** `last_month: 2026-05-01 to 2026-05-31` → `last month (2026-05-01 to 2026-05-31)`; empty when there is no period. */
function periodPhrase(period: string | undefined): string {
  const p = (period ?? '').trim();
  if (!p) return '';
  const cut = p.indexOf(': ');
  if (cut === -1) return p;
  const label = p.slice(0, cut).trim();
  const dates = p.slice(cut + 2).trim();
  // An explicit range's label is the range itself ("2026-03-01..2026-03-31"): say it once.
  if (!label || label.includes('..') || !dates) return dates || label;
  const words = PERIOD_LABELS[label] ?? label.replace(/_/g, ' ');
  return `${words} (${dates})`;
}

// Which breakdowns a metric can be summed over: an order with items in two categories counts once per
// category, and a customer who ordered in two months once per month, so those totals would overcount.
const ORDER_LEVEL = new Set(['region', 'country', 'segment', 'channel', 'status', 'day', 'week', 'month', 'quarter', 'year']);
function additive(metric: string, dimensions: string[]): boolean {
  if (metric === 'revenue' || metric === 'units') return true;
  if (metric === 'orders' || metric === 'returns' || metric === 'cancellations') return dimensions.every((d) => ORDER_LEVEL.has(d));
  if (metric === 'customers') return dimensions.every((d) => d === 'region' || d === 'country' || d === 'segment');
  return false;
}

const MAX_LISTED = 10;

/** Query results in words a shop manager reads: the figure, or the figures by the breakdown, their total, the definition. */
export function dataAnswer(block: DataBlock): string {
  const { attrs, columns, rows } = block;
  if (!rows.length || !columns.length) return 'There is no data for that period.';
  const unit = attrs.unit ?? 'count';
  const metricAttr = attrs.metric ?? '';
  const found = columns.indexOf(metricAttr);
  const valueAt = found >= 0 ? found : columns.length - 1;
  const metric = metricAttr || columns[valueAt] || 'value';
  const name = METRIC_NAMES[metric] ?? metric.charAt(0).toUpperCase() + metric.slice(1).replace(/_/g, ' ');
  const dimAt = columns.map((_, i) => i).filter((i) => i !== valueAt);
  const dims = dimAt.map((i) => columns[i] ?? '');
  const label = (row: string[]) => dimAt.map((i) => row[i] ?? '').join(', ');
  const period = periodPhrase(attrs.period);
  const forPeriod = period ? ` for ${period}` : '';
  const definition = attrs.definition ? ` ${/[.!?]$/.test(attrs.definition) ? attrs.definition : `${attrs.definition}.`}` : '';
  const total = Number(attrs.rows);
  const capped = attrs.capped === 'true' || (Number.isFinite(total) && total > rows.length);

  if (rows.length === 1 && !capped) {
    const row = rows[0] ?? [];
    const who = dims.length && label(row) ? ` for ${label(row)}` : '';
    return `${name}${forPeriod} was ${formatValue(row[valueAt], unit)}${who}.`;
  }
  const lines = [`${name}${dims.length ? ` by ${dims.join(' and ')}` : ''}${forPeriod}:`];
  for (const row of rows.slice(0, MAX_LISTED)) lines.push(`- ${label(row) || '(total)'}: ${formatValue(row[valueAt], unit)}`);
  if (rows.length > MAX_LISTED) lines.push(`- …and ${rows.length - MAX_LISTED} more.`);
  const values = rows.map((r) => Number(r[valueAt]));
  if ((unit === 'usd' || unit === 'count') && !capped && additive(metric, dims) && values.every(Number.isFinite)) {
    const sum = values.reduce((a, b) => a + b, 0);
    lines.push(`Total across ${rows.length > MAX_LISTED ? 'all' : 'these'} ${rows.length} rows: ${formatValue(String(sum), unit)}.`);
  }
  if (definition) lines.push(definition.trim());
  if (capped) lines.push(`Showing the first ${rows.length} of ${Number.isFinite(total) ? total : rows.length} rows.`);
  return lines.join('\n');
}

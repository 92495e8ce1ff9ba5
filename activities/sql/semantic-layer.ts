// The semantic layer: the shop's business definitions (metrics, dimensions, filters, periods on the shop's
// clock) over the product's analytics schema (activities/tenant/analytics-schema.ts), compiled to SQL from
// captured slots. An analytics question whose slots name a metric compiles here in microseconds instead of
// a model call writing it; the SQL still goes through the same validator and runs as the tenant's read-only
// role (activities/sql/activities.ts). The definitions are those the SQL prompt states to the model
// (activities/sql/prompts.ts): revenue and units exclude cancelled and returned orders and come from
// order_items; money is dollars, 2 decimals. The offline model's SQL writer answers with this too.
import type { Dimension, Metric, Slots } from '../../workflows/shared/understanding.ts';

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_ROWS = 500;
const DAY_MS = 86_400_000;
// A day-by-day breakdown without a period would be two years of rows, capped before the recent ones.
const DEFAULT_DAILY_DAYS = 30;

const TIME_DIMENSIONS = new Set<Dimension>(['day', 'week', 'month', 'quarter', 'year']);
const TIME_FORMAT: Record<string, string> = { day: 'YYYY-MM-DD', week: 'YYYY-MM-DD', month: 'YYYY-MM', quarter: 'YYYY-"Q"Q', year: 'YYYY' };

type Table = 'order_items' | 'products' | 'categories' | 'customers';

/** A query under construction: the tables it must join and its WHERE conditions. */
interface Query {
  joins: Set<Table>;
  where: string[];
}

/** Whether the product compiles these slots itself: they name a metric (a breakdown alone is the model's to read). */
export function compilable(slots: Slots): boolean {
  return slots.metric !== undefined;
}

const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;
const inList = (column: string, values: readonly string[]) =>
  values.length === 1 ? `${column} = ${quoteLiteral(values[0]!)}` : `${column} IN (${values.map(quoteLiteral).join(', ')})`;
const inInts = (column: string, values: readonly number[]) => `${column} IN (${values.filter(Number.isSafeInteger).join(', ')})`;

/**
 * The SQL answering the slots' question on the tenant's schema; null when the slots ask for nothing the
 * layer defines (no metric or dimension, a breakdown a fact table lacks, a qualifier without a period).
 * A breakdown without a metric means revenue (the offline writer's reading); `compilable` is stricter.
 */
export function compileSlotsToSql(slots: Slots, opts: { today: string; schema: string }): string | null {
  if (!SCHEMA_NAME.test(opts.schema)) return null;
  const dimension = slots.dimension;
  const metric: Metric | undefined = slots.metric ?? (dimension ? 'revenue' : undefined);
  if (!metric) return null;
  return metric === 'rating' ? reviewsSql(slots, dimension, opts) : ordersSql(slots, metric, dimension, opts);
}

/** The period's bounds: the slots' range, or for a daily breakdown without one the last 30 days up to today. */
function period(slots: Slots, dimension: Dimension | undefined, today: string): { start: string; end: string } | null | undefined {
  const r = slots.timeRange;
  if (r) return ISO_DATE.test(r.start) && ISO_DATE.test(r.end) ? { start: r.start, end: r.end } : null;
  if (dimension !== 'day' || !ISO_DATE.test(today)) return undefined;
  const t = Date.parse(`${today}T00:00:00Z`);
  if (Number.isNaN(t)) return undefined;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { start: iso(t - (DEFAULT_DAILY_DAYS - 1) * DAY_MS), end: iso(t + DAY_MS) };
}

function ordersSql(slots: Slots, metric: Metric, dimension: Dimension | undefined, opts: { today: string; schema: string }): string | null {
  const s = `"${opts.schema}"`;
  const q: Query = { joins: new Set(), where: [] };
  const f = slots.filters ?? {};

  // Revenue, units and AOV are item sums over kept orders; an explicit status filter ("revenue of returned
  // orders") is the user overriding that default, so it replaces the exclusion rather than contradicting it.
  const itemMetric = metric === 'revenue' || metric === 'units' || metric === 'aov';
  if (itemMetric) q.joins.add('order_items');
  if (f.status?.length) q.where.push(inList('o.status', f.status));
  else if (itemMetric) q.where.push(`o.status NOT IN ('cancelled', 'returned')`);
  if (metric === 'returns') q.where.push(`o.status = 'returned'`);
  if (metric === 'cancellations') q.where.push(`o.status = 'cancelled'`);

  const range = period(slots, dimension, opts.today);
  if (range === null) return null;
  if (range) q.where.push(`o.ordered_at >= ${quoteLiteral(range.start)}`, `o.ordered_at < ${quoteLiteral(range.end)}`);

  if (f.channel?.length) q.where.push(inList('o.channel', f.channel));
  customerFilters(q, slots);
  productFilters(q, slots);
  if (slots.entities?.orderIds?.length) q.where.push(inInts('o.id', slots.entities.orderIds));

  const customerQualifier = newOrReturning(slots, s, range);
  if (customerQualifier === null) return null;
  if (customerQualifier) q.where.push(customerQualifier);

  const value = orderMetric(metric);
  const dim = dimension ? dimensionColumn(dimension, q, 'o.ordered_at') : undefined;
  if (dim === null) return null;

  const from = [`${s}.orders o`];
  // Every join follows a foreign key towards its parent, so rows multiply only by the order's items: exactly
  // what the item metrics sum over, and why the order and customer counts are DISTINCT.
  if (q.joins.has('order_items') || q.joins.has('products') || q.joins.has('categories')) from.push(`JOIN ${s}.order_items oi ON oi.order_id = o.id`);
  if (q.joins.has('products') || q.joins.has('categories')) from.push(`JOIN ${s}.products p ON p.id = oi.product_id`);
  if (q.joins.has('categories')) from.push(`JOIN ${s}.categories cat ON cat.id = p.category_id`);
  if (q.joins.has('customers')) from.push(`JOIN ${s}.customers c ON c.id = o.customer_id`);
  return assemble(from, q.where, metric, value, dimension, dim, slots);
}

function reviewsSql(slots: Slots, dimension: Dimension | undefined, opts: { today: string; schema: string }): string | null {
  const f = slots.filters ?? {};
  // Reviews are not tied to an order: a rating per channel or status, or of an order, has no meaning here.
  if (dimension === 'channel' || dimension === 'status' || f.channel?.length || f.status?.length || slots.entities?.orderIds?.length) return null;
  if (slots.qualifiers?.some((x) => x === 'customers:new' || x === 'customers:returning')) return null;
  const s = `"${opts.schema}"`;
  const q: Query = { joins: new Set(), where: [] };
  const range = period(slots, dimension, opts.today);
  if (range === null) return null;
  if (range) q.where.push(`r.created_at >= ${quoteLiteral(range.start)}`, `r.created_at < ${quoteLiteral(range.end)}`);
  customerFilters(q, slots);
  productFilters(q, slots);
  const dim = dimension ? dimensionColumn(dimension, q, 'r.created_at') : undefined;
  if (dim === null) return null;
  const from = [`${s}.reviews r`];
  if (q.joins.has('products') || q.joins.has('categories')) from.push(`JOIN ${s}.products p ON p.id = r.product_id`);
  if (q.joins.has('categories')) from.push(`JOIN ${s}.categories cat ON cat.id = p.category_id`);
  if (q.joins.has('customers')) from.push(`JOIN ${s}.customers c ON c.id = r.customer_id`);
  return assemble(from, q.where, 'rating', 'round(avg(r.rating), 2)', dimension, dim, slots);
}

function customerFilters(q: Query, slots: Slots): void {
  const f = slots.filters ?? {};
  for (const key of ['region', 'country', 'segment'] as const) {
    const values = f[key];
    if (!values?.length) continue;
    q.joins.add('customers');
    q.where.push(inList(`c.${key}`, values));
  }
}

function productFilters(q: Query, slots: Slots): void {
  const categories = slots.filters?.category;
  if (categories?.length) {
    q.joins.add('categories');
    q.where.push(inList('cat.name', categories));
  }
  const e = slots.entities;
  if (e?.productIds?.length) {
    q.joins.add('products');
    q.where.push(inInts('p.id', e.productIds));
  }
  if (e?.skus?.length) {
    q.joins.add('products');
    q.where.push(inList('p.sku', e.skus));
  }
}

/**
 * "New" customers placed their first order (of any status) inside the period, "returning" ones had ordered
 * before it. Both need a period to mean anything: null (no SQL) without one, undefined when not asked.
 */
function newOrReturning(slots: Slots, s: string, range: { start: string; end: string } | undefined): string | null | undefined {
  const q = slots.qualifiers ?? [];
  const wantsNew = q.includes('customers:new');
  const wantsReturning = q.includes('customers:returning');
  if (wantsNew === wantsReturning) return undefined;
  if (!range) return null;
  const firstOrders = `SELECT customer_id FROM ${s}.orders GROUP BY customer_id HAVING min(ordered_at)`;
  return wantsNew
    ? `o.customer_id IN (${firstOrders} >= ${quoteLiteral(range.start)} AND min(ordered_at) < ${quoteLiteral(range.end)})`
    : `o.customer_id IN (${firstOrders} < ${quoteLiteral(range.start)})`;
}

function orderMetric(metric: Metric): string {
  switch (metric) {
    case 'revenue':
      return 'coalesce(round(sum(oi.quantity * oi.unit_price_cents) / 100.0, 2), 0)';
    case 'units':
      return 'coalesce(sum(oi.quantity), 0)';
    case 'aov':
      return 'round(sum(oi.quantity * oi.unit_price_cents) / 100.0 / nullif(count(DISTINCT o.id), 0), 2)';
    case 'customers':
      return 'count(DISTINCT o.customer_id)';
    default:
      // orders, returns, cancellations: the status conditions already say which orders count.
      return 'count(DISTINCT o.id)';
  }
}

/** The dimension's SQL expression (its joins noted in `q`); null when this fact table cannot be broken down by it. */
function dimensionColumn(dimension: Dimension, q: Query, time: string): string | null {
  if (TIME_DIMENSIONS.has(dimension)) return `to_char(date_trunc('${dimension}', ${time}), '${TIME_FORMAT[dimension]}')`;
  switch (dimension) {
    case 'category':
      q.joins.add('categories');
      return 'cat.name';
    case 'product':
      q.joins.add('products');
      return 'p.name';
    case 'region':
    case 'country':
    case 'segment':
      q.joins.add('customers');
      return `c.${dimension}`;
    case 'channel':
    case 'status':
      return time.startsWith('o.') ? `o.${dimension}` : null;
    default:
      return null;
  }
}

function assemble(
  from: string[],
  where: string[],
  metric: Metric,
  value: string,
  dimension: Dimension | undefined,
  dim: string | undefined,
  slots: Slots,
): string {
  const lines = [dimension && dim ? `SELECT ${dim} AS ${dimension}, ${value} AS ${metric}` : `SELECT ${value} AS ${metric}`, `FROM ${from.join('\n  ')}`];
  if (where.length) lines.push(`WHERE ${where.join('\n  AND ')}`);
  if (!dimension || !dim) {
    lines.push('LIMIT 1');
    return lines.join('\n');
  }
  lines.push('GROUP BY 1');
  const ranked = slots.limit !== undefined || slots.order !== undefined;
  // Rankings by the metric (best first unless asked otherwise); a time series reads in time order; any
  // other breakdown biggest first. The dimension breaks ties, so equal values always list the same way.
  if (ranked) lines.push(`ORDER BY ${metric} ${slots.order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, ${dimension}`);
  else if (TIME_DIMENSIONS.has(dimension)) lines.push(`ORDER BY ${dimension}`);
  else lines.push(`ORDER BY ${metric} DESC NULLS LAST, ${dimension}`);
  const limit = slots.limit !== undefined && Number.isSafeInteger(slots.limit) && slots.limit > 0 ? Math.min(slots.limit, MAX_ROWS) : MAX_ROWS;
  lines.push(`LIMIT ${limit}`);
  return lines.join('\n');
}

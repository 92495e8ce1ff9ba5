// Rendered charts in the app store, content-addressed: the id is a hash of everything that decides the
// pixels, so an id's bytes never change (served immutable) and an identical chart is stored once.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../infra/db.ts';
import { chartRecords, chartSpecFor, type ChartData } from './chart-spec.ts';
import { renderChart, RENDERER_VERSION } from './render.ts';

/** A chart id: 32 lowercase hex characters. */
export const CHART_ID = /^[0-9a-f]{32}$/;

/** JSON with object keys sorted at every depth, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && typeof v !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The id of a tenant's chart: sha256 (first 32 hex) of tenant, spec, rows and renderer version. */
export function chartId(tenantId: string, spec: object, rows: unknown[]): string {
  return createHash('sha256')
    .update(`${tenantId}\u0000${canonicalJson(spec)}\u0000${canonicalJson(rows)}\u0000${RENDERER_VERSION}`)
    .digest('hex')
    .slice(0, 32);
}

/** A rendered chart as stored. */
export interface StoredChart {
  id: string;
  tenantId: string;
  spec: object;
  svg: string;
  png: Buffer;
}

/** Stores a rendered chart; an id already stored is left as it is (same id, same bytes). */
export async function saveChart(db: Queryable, c: StoredChart): Promise<void> {
  await db.query(
    `INSERT INTO charts (id, tenant_id, spec, svg, png) VALUES ($1, $2, $3::jsonb, $4, $5)
     ON CONFLICT (id) DO NOTHING`,
    [c.id, c.tenantId, JSON.stringify(c.spec), c.svg, c.png],
  );
}

/** Whether the tenant has a chart with this id. */
export async function chartExists(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM charts WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return rows.length > 0;
}

/** The tenant's chart as SVG text or PNG bytes; null if unknown or another tenant's. */
export async function loadChart(db: Queryable, tenantId: string, id: string, format: 'svg' | 'png'): Promise<string | Buffer | null> {
  if (format === 'svg') {
    const { rows } = await db.query<{ svg: string }>('SELECT svg FROM charts WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    return rows[0]?.svg ?? null;
  }
  const { rows } = await db.query<{ png: Uint8Array }>('SELECT png FROM charts WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  const png = rows[0]?.png;
  if (!png) return null;
  // pg returns bytea as a Buffer, PGlite as a plain Uint8Array: a view, not a copy.
  return Buffer.isBuffer(png) ? png : Buffer.from(png.buffer, png.byteOffset, png.byteLength);
}

/** How a chart is drawn; a parameter so tests can count renders. */
export type ChartRenderer = (spec: object, rows: Record<string, unknown>[]) => Promise<{ svg: string; png: Buffer }>;

// Identical charts asked for at the same time in this process share one render.
const inFlight = new Map<string, Promise<void>>();

/**
 * The chart for a query result, rendered and stored unless an identical one is stored already; null
 * when the result's shape fits no chart.
 */
export async function ensureChart(db: Queryable, tenantId: string, data: ChartData, render: ChartRenderer = renderChart): Promise<{ id: string; spec: object } | null> {
  const spec = chartSpecFor(data);
  if (!spec) return null;
  const rows = chartRecords(data);
  const id = chartId(tenantId, spec, rows);
  let run = inFlight.get(id);
  if (!run) {
    run = (async () => {
      if (await chartExists(db, tenantId, id)) return;
      const { svg, png } = await render(spec, rows);
      await saveChart(db, { id, tenantId, spec, svg, png });
    })().finally(() => inFlight.delete(id));
    inFlight.set(id, run);
  }
  await run;
  return { id, spec };
}

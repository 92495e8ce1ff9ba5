// A query result's chart, content-addressed: the id is a hash of everything that decides the pixels, so
// an id's bytes never change (served immutable) and an identical chart is rendered and stored once.
import { createHash } from 'node:crypto';
import type { Queryable } from '../../infra/db.ts';
import { chartRecords, chartSpecFor, type ChartData } from './chart-spec.ts';
import { renderChart, RENDERER_VERSION } from './render.ts';
import { chartExists, saveChart } from './store.ts';

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

// Rendered charts in the app store, by id (ensure-chart.ts makes the ids and renders). The API serves
// them from here without loading the renderer.
import type { Queryable } from '../../infra/db.ts';

/** A chart id: 32 lowercase hex characters. */
export const CHART_ID = /^[0-9a-f]{32}$/;

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

/** The tenant a chart belongs to, or null when no chart has this id (ids are unique: they hash the tenant too). */
export async function chartOwner(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM charts WHERE id = $1', [id]);
  return rows[0]?.tenant_id ?? null;
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

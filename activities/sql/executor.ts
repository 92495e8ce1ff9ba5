// Running generated SQL safely: as the tenant's reader role (SELECT on its own schema only), in a READ
// ONLY transaction, with a statement timeout and a row cap. Every setting is transaction-local (SET
// LOCAL): on the embedded store all connections share one session, so nothing may outlive the query.
import type pg from 'pg';
import { quoteIdent, type Queryable } from '../../infra/db.ts';
import { TENANT_ID_PATTERN } from '../../workflows/shared/contract.ts';

/** The role a tenant's generated SQL runs as. */
export function readerRole(tenantId: string): string {
  return `turnflow_${tenantId}_reader`;
}

// int8, int2, int4, float4, float8, numeric.
const NUMERIC_TYPES = new Set([20, 21, 23, 700, 701, 1700]);

/**
 * Creates (or refreshes) the tenant's reader role: no login, USAGE on its schema and SELECT on its tables,
 * nothing else (other tenants' schemas grant nothing to it). Idempotent; run after the schema exists.
 */
export async function ensureReaderRole(db: Queryable, tenantId: string): Promise<void> {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}`);
  const role = quoteIdent(readerRole(tenantId));
  const schema = quoteIdent(tenantId);
  // One statement under a transaction-scoped advisory lock: two workers starting together would otherwise
  // update the same catalog rows at once and one would fail with "tuple concurrently updated".
  await db.query(`DO $$ BEGIN
      PERFORM pg_advisory_xact_lock(7243003);
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${readerRole(tenantId)}') THEN CREATE ROLE ${role} NOLOGIN; END IF;
      GRANT USAGE ON SCHEMA ${schema} TO ${role};
      GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role};
    END $$`);
  // The connecting user must be able to SET ROLE to it (a superuser can anyway).
  await db.query(`GRANT ${role} TO CURRENT_USER`).catch(() => {});
}

/** A result set: column names and rows as arrays (values as the driver returns them). */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
  rowCount: number;
}

/**
 * A connection from the pool, or the signal's reason once it aborts first (the pool's connect cannot be
 * cancelled: a connection that comes later goes straight back to the pool).
 */
async function connectWithin(pool: Pick<pg.Pool, 'connect'>, signal?: AbortSignal): Promise<pg.PoolClient> {
  if (!signal) return pool.connect();
  signal.throwIfAborted();
  const connecting = pool.connect();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([connecting, aborted]);
  } catch (err) {
    connecting.then((c) => c.release(), () => {});
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

/** Runs one validated SELECT for a tenant, read-only, as its reader role, bounded in time (`signal`: the connect too). */
export async function runReadOnly(pool: Pick<pg.Pool, 'connect'>, q: { tenantId: string; sql: string; timeoutMs: number; timeZone?: string; signal?: AbortSignal }): Promise<QueryResult> {
  if (!TENANT_ID_PATTERN.test(q.tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(q.tenantId)}`);
  const client = await connectWithin(pool, q.signal);
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL ROLE ${quoteIdent(readerRole(q.tenantId))}`);
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(q.timeoutMs))}`);
    await client.query(`SET LOCAL search_path = ${quoteIdent(q.tenantId)}`);
    // Periods follow the shop's calendar: date_trunc and date literals use the tenant's time zone.
    if (q.timeZone) await client.query(`SET LOCAL TIME ZONE '${q.timeZone.replace(/'/g, "''")}'`);
    const res = await client.query({ text: q.sql, rowMode: 'array' });
    await client.query('ROLLBACK');
    // pg returns bigint and numeric as strings (exactness); results here are figures to show and chart.
    const numeric = res.fields.map((f) => NUMERIC_TYPES.has(f.dataTypeID));
    const rows = (res.rows as unknown[][]).map((row) => row.map((v, i) => (numeric[i] && typeof v === 'string' ? Number(v) : v instanceof Date ? v.toISOString() : v)));
    return { columns: res.fields.map((f) => f.name), rows, rowCount: rows.length };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

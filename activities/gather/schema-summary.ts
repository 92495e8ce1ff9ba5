// A compact summary of a tenant's analytics schema (tables and columns), cached; its hash tells when the
// schema changed, which retires the tenant's cached answers.
import type { Queryable } from '../../infra/db.ts';
import { createHash } from 'node:crypto';
import type { KvCache } from '../../infra/kv-cache.ts';

/** `table(column type, …)` lines and their hash. */
export interface SchemaSummary {
  version: string;
  tables: Record<string, string[]>;
}

/** Schemas change rarely: cached 15 minutes. */
export const SCHEMA_TTL_SECONDS = 900;

/** The tenant schema's tables and columns (from information_schema), read through the cache; `fresh` when read from the database. */
export async function loadSchemaSummary(db: Queryable, kv: Pick<KvCache, 'get' | 'set'>, tenantId: string): Promise<{ summary: SchemaSummary; fresh: boolean }> {
  const key = `schema:v1:${tenantId}`;
  const cached = await kv.get(key);
  if (cached) return { summary: JSON.parse(cached) as SchemaSummary, fresh: false };
  const { rows } = await db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    [tenantId],
  );
  const tables: Record<string, string[]> = {};
  for (const r of rows) (tables[r.table_name] ??= []).push(`${r.column_name} ${r.data_type}`);
  const version = createHash('sha256').update(JSON.stringify(tables)).digest('hex').slice(0, 16);
  const summary = { version, tables };
  await kv.set(key, JSON.stringify(summary), SCHEMA_TTL_SECONDS);
  return { summary, fresh: true };
}

/**
 * Records the schema version seen; when it differs from the stored one the tenant's cache generation is
 * bumped (answers computed on the old schema are retired). Returns true when it changed.
 */
export async function noteSchemaVersion(appDb: Queryable, tenantId: string, version: string): Promise<boolean> {
  const { rowCount } = await appDb.query(
    `UPDATE tenants SET schema_hash = $2,
            cache_generation = cache_generation + CASE WHEN schema_hash IS NULL THEN 0 ELSE 1 END
      WHERE id = $1 AND schema_hash IS DISTINCT FROM $2`,
    [tenantId, version],
  );
  return (rowCount ?? 0) > 0;
}

// A tenant's analytics schema as the SQL agent's prompt carries it: tables, columns and types, keys, and
// a few sample values of low-cardinality columns. Cached 15 minutes (and warmed at worker start); its
// hash tells when the schema changed, which retires the tenant's cached answers.
import { createHash } from 'node:crypto';
import { quoteIdent, type Queryable } from '../../infra/db.ts';
import type { KvCache } from '../../infra/kv-cache.ts';
import { forgetTenantContext, noteTenantSchemaVersion } from '../tenant/store.ts';

/** One table of the tenant's schema. */
export interface TableInfo {
  columns: { name: string; type: string }[];
  primaryKey: string[];
  foreignKeys: { column: string; references: string }[];
  /** Distinct values of text columns with at most MAX_SAMPLES of them (status, channel, region …). */
  samples: Record<string, string[]>;
}

/** The schema, its compact prompt text, and a hash of both. */
export interface TenantSchema {
  version: string;
  tables: Record<string, TableInfo>;
  text: string;
}

/** Schemas change rarely: cached 15 minutes. */
export const SCHEMA_TTL_SECONDS = 900;
const MAX_SAMPLES = 12;

/** Reads the schema from the catalog (no cache). */
export async function readTenantSchema(db: Queryable, tenantId: string): Promise<TenantSchema> {
  const [cols, keys] = await Promise.all([
    db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [tenantId],
    ),
    db.query<{ table_name: string; column_name: string; constraint_type: string; ref_table: string | null; ref_column: string | null }>(
      `SELECT tc.table_name, kcu.column_name, tc.constraint_type, ccu.table_name AS ref_table, ccu.column_name AS ref_column
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
         LEFT JOIN information_schema.constraint_column_usage ccu
           ON tc.constraint_type = 'FOREIGN KEY' AND ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
        WHERE tc.table_schema = $1 AND tc.constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')
        ORDER BY tc.table_name, kcu.ordinal_position`,
      [tenantId],
    ),
  ]);
  const tables: Record<string, TableInfo> = {};
  for (const r of cols.rows) (tables[r.table_name] ??= { columns: [], primaryKey: [], foreignKeys: [], samples: {} }).columns.push({ name: r.column_name, type: r.data_type });
  for (const k of keys.rows) {
    const t = tables[k.table_name];
    if (!t) continue;
    if (k.constraint_type === 'PRIMARY KEY' && !t.primaryKey.includes(k.column_name)) t.primaryKey.push(k.column_name);
    if (k.constraint_type === 'FOREIGN KEY' && k.ref_table) t.foreignKeys.push({ column: k.column_name, references: `${k.ref_table}.${k.ref_column}` });
  }
  // Sample values tell the model how values are spelled ("Asia Pacific", "cancelled"): only text columns
  // with few distinct values, one query per table.
  for (const [table, info] of Object.entries(tables)) {
    const textCols = info.columns.filter((c) => c.type === 'text' && !info.primaryKey.includes(c.name)).map((c) => c.name);
    if (textCols.length === 0) continue;
    const { rows } = await db.query<Record<string, string[] | null>>(
      `SELECT ${textCols
        .map(
          (c) =>
            `(SELECT array_agg(v ORDER BY v) FROM (SELECT DISTINCT ${quoteIdent(c)} AS v FROM ${quoteIdent(tenantId)}.${quoteIdent(table)} WHERE ${quoteIdent(c)} IS NOT NULL LIMIT ${MAX_SAMPLES + 1}) d) AS ${quoteIdent(c)}`,
        )
        .join(', ')}`,
    );
    for (const c of textCols) {
      const values = rows[0]?.[c] ?? null;
      if (values && values.length <= MAX_SAMPLES) info.samples[c] = values;
    }
  }
  const text = Object.entries(tables)
    .map(([table, t]) => {
      const described = t.columns.map((c) => {
        const fk = t.foreignKeys.find((f) => f.column === c.name);
        const sample = t.samples[c.name];
        return `${c.name} ${c.type}${t.primaryKey.includes(c.name) ? ' pk' : ''}${fk ? ` -> ${fk.references}` : ''}${sample ? ` (${sample.join(' | ')})` : ''}`;
      });
      return `${table}(${described.join(', ')})`;
    })
    .join('\n');
  const version = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { version, tables, text };
}

/**
 * The tenant's schema through the cache. Whoever re-reads it from the catalog (a turn, the SQL agent, the
 * start-up warm-up) also records its version, so a changed schema retires the cached answers.
 */
export async function loadTenantSchema(
  deps: { tenantDb: Queryable; appDb: Queryable; kv: Pick<KvCache, 'get' | 'set' | 'delete'> },
  tenantId: string,
): Promise<TenantSchema> {
  const key = `schema:v2:${tenantId}`;
  const cached = await deps.kv.get(key);
  if (cached) return JSON.parse(cached) as TenantSchema;
  const schema = await readTenantSchema(deps.tenantDb, tenantId);
  await deps.kv.set(key, JSON.stringify(schema), SCHEMA_TTL_SECONDS);
  if (await noteTenantSchemaVersion(deps.appDb, tenantId, schema.version)) await forgetTenantContext(deps.kv, tenantId);
  return schema;
}

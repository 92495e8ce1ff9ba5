// The `tenants` table, the one place that reads or writes it: which tenants exist, their settings and
// cache generation (read through the shared cache, 15 min, changed in the app store), the schema version seen.
import type { Queryable } from '../../infra/db.ts';
import type { KvCache } from '../../infra/kv-cache.ts';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from '../../workflows/shared/tenant-settings.ts';
import { exactTenantPrefix } from '../caches/exact-key.ts';
import { mergeSettings, settingsFromStored, type TenantSettingsPatch } from './settings.ts';

/** What every turn needs to know about its tenant before anything else. */
export interface TenantContext {
  settings: TenantSettings;
  generation: number;
}

/** Settings are read on every turn and change rarely: cached 15 minutes, deleted on change. */
export const TENANT_CONTEXT_TTL_SECONDS = 900;

function contextKey(tenantId: string): string {
  return `tenant:v1:${tenantId}`;
}

/** The tenant's settings and cache generation, from the shared cache or the app store. */
export async function loadTenantContext(db: Queryable, kv: Pick<KvCache, 'get' | 'set'>, tenantId: string): Promise<TenantContext> {
  const cached = await kv.get(contextKey(tenantId));
  if (cached) {
    try {
      const context = JSON.parse(cached) as TenantContext;
      // Written by an older worker during an upgrade: sections it did not know yet get their defaults.
      return { ...context, settings: { ...DEFAULT_TENANT_SETTINGS, ...context.settings } };
    } catch {
      // fall through to the store
    }
  }
  const { rows } = await db.query<{ settings: unknown; cache_generation: number }>('SELECT settings, cache_generation FROM tenants WHERE id = $1', [tenantId]);
  const context: TenantContext = { settings: settingsFromStored(rows[0]?.settings), generation: rows[0]?.cache_generation ?? 0 };
  await kv.set(contextKey(tenantId), JSON.stringify(context), TENANT_CONTEXT_TTL_SECONDS);
  return context;
}

/** Validates and stores a settings change; every process sees it on its next turn. */
export async function updateTenantSettings(
  db: Queryable,
  kv: Pick<KvCache, 'delete'>,
  tenantId: string,
  patch: TenantSettingsPatch,
): Promise<TenantSettings> {
  const stored = (await storedTenantSettings(db, tenantId)) ?? {};
  // Validate the whole result, but store only what the tenant set, so later default changes still apply.
  // A patch of one limit keeps the limits set before it (per key too).
  const next: TenantSettingsPatch = {
    ...stored,
    ...patch,
    guardrails: { ...stored.guardrails, ...patch.guardrails },
    exactCache: { ...stored.exactCache, ...patch.exactCache },
    semanticCache: { ...stored.semanticCache, ...patch.semanticCache },
    understanding: { ...stored.understanding, ...patch.understanding },
    limits: { ...stored.limits, ...patch.limits, perKey: { ...stored.limits?.perKey, ...patch.limits?.perKey } },
  };
  const settings = mergeSettings(settingsFromStored({}), next);
  await db.query('UPDATE tenants SET settings = $2 WHERE id = $1', [tenantId, JSON.stringify(next)]);
  await kv.delete(contextKey(tenantId));
  return settings;
}

/** Retires every cached answer of a tenant: new generation, exact entries deleted, semantic rows deleted. */
export async function invalidateTenantCaches(db: Queryable, kv: Pick<KvCache, 'delete' | 'deletePrefix'>, tenantId: string): Promise<number> {
  const { rows } = await db.query<{ cache_generation: number }>(
    'UPDATE tenants SET cache_generation = cache_generation + 1 WHERE id = $1 RETURNING cache_generation',
    [tenantId],
  );
  await kv.delete(contextKey(tenantId));
  await kv.deletePrefix(exactTenantPrefix(tenantId));
  await db.query('DELETE FROM semantic_cache WHERE tenant_id = $1', [tenantId]);
  return rows[0]?.cache_generation ?? 0;
}

/** Forgets the cached context so the next turn reads generation and settings from the store (after a document change). */
export async function forgetTenantContext(kv: Pick<KvCache, 'delete'>, tenantId: string): Promise<void> {
  await kv.delete(contextKey(tenantId));
}

/** Whether the tenant exists. */
export async function tenantExists(db: Queryable, tenantId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
  return (rowCount ?? 0) > 0;
}

/** Creates a tenant; false when one with this id exists (it is left as it is). */
export async function createTenant(db: Queryable, tenantId: string, name: string): Promise<boolean> {
  const { rowCount } = await db.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [tenantId, name]);
  return (rowCount ?? 0) > 0;
}

/** Every tenant, by id. */
export async function listTenants(db: Queryable): Promise<{ id: string; name: string; createdAt: Date }[]> {
  const { rows } = await db.query<{ id: string; name: string; created_at: Date }>('SELECT id, name, created_at FROM tenants ORDER BY id');
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}

/** The settings the tenant set itself (defaults not applied); null when there is no such tenant. */
export async function storedTenantSettings(db: Queryable, tenantId: string): Promise<TenantSettingsPatch | null> {
  const { rows } = await db.query<{ settings: TenantSettingsPatch }>('SELECT settings FROM tenants WHERE id = $1', [tenantId]);
  return rows[0] ? (rows[0].settings ?? {}) : null;
}

/**
 * Records the tenant schema's version seen; when it differs from the stored one the tenant's cache
 * generation is bumped (answers computed on the old schema are retired). Returns true when it changed.
 */
export async function noteTenantSchemaVersion(db: Queryable, tenantId: string, version: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE tenants SET schema_hash = $2,
            cache_generation = cache_generation + CASE WHEN schema_hash IS NULL THEN 0 ELSE 1 END
      WHERE id = $1 AND schema_hash IS DISTINCT FROM $2`,
    [tenantId, version],
  );
  return (rowCount ?? 0) > 0;
}

// Tenant settings and cache generation: read through the shared cache (15 min), changed in the app store.
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
  const { rows } = await db.query<{ settings: TenantSettingsPatch }>('SELECT settings FROM tenants WHERE id = $1', [tenantId]);
  const stored = rows[0]?.settings ?? {};
  // Validate the whole result, but store only what the tenant set, so later default changes still apply.
  const next: TenantSettingsPatch = {
    ...stored,
    ...patch,
    guardrails: { ...stored.guardrails, ...patch.guardrails },
    exactCache: { ...stored.exactCache, ...patch.exactCache },
    semanticCache: { ...stored.semanticCache, ...patch.semanticCache },
    understanding: { ...stored.understanding, ...patch.understanding },
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

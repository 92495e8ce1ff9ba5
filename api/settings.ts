import type { Queryable } from '../infra/db.ts';
import { Router } from 'express';
import { tenantSettingsPatch } from '../activities/tenant/settings.ts';
import { invalidateTenantCaches, loadTenantContext, updateTenantSettings } from '../activities/tenant/store.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import { tenantOf } from './auth.ts';
import { ApiError } from './errors.ts';

/** What the settings routes need. */
export interface SettingsRoutesDeps {
  appDb: Queryable;
  kv: KvCache;
}


/** GET/PATCH /v1/settings (the calling tenant's settings), POST /v1/settings/invalidate-caches. */
export function settingsRoutes(deps: SettingsRoutesDeps): Router {
  const router = Router();

  router.get('/v1/settings', async (req, res) => {
    const { settings, generation } = await loadTenantContext(deps.appDb, deps.kv, tenantOf(req));
    res.json({ settings, cacheGeneration: generation });
  });

  router.patch('/v1/settings', async (req, res) => {
    const tenantId = tenantOf(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const patch = tenantSettingsPatch.parse(req.body ?? {});
    const settings = await updateTenantSettings(deps.appDb, deps.kv, tenantId, patch);
    req.log?.info({ tenantId, changed: Object.keys(patch) }, 'tenant settings changed');
    res.json({ settings });
  });

  router.post('/v1/settings/invalidate-caches', async (req, res) => {
    const tenantId = tenantOf(req);
    const generation = await invalidateTenantCaches(deps.appDb, deps.kv, tenantId);
    req.log?.info({ tenantId, generation }, 'tenant caches invalidated');
    res.json({ cacheGeneration: generation });
  });

  return router;
}

// Tenant administration with an admin key: create a tenant (its row, settings and first API key here; its
// data provisioned by the `provisionTenant` workflow), list tenants, issue another key, change a
// tenant's settings. What a benchmark or an operator's script uses to set up shops side by side.
import { Router, type Request } from 'express';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { tenantSettingsPatch } from '../activities/tenant/settings.ts';
import { createTenant, listTenants, loadTenantContext, tenantExists, updateTenantSettings } from '../activities/tenant/store.ts';
import type { ProvisionTenantInput, ProvisionTenantResult } from '../activities/tenant/provision.ts';
import { createTenantKey } from '../infra/api-keys.ts';
import type { Queryable } from '../infra/db.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import { TENANT_ID_PATTERN, TURN_TASK_QUEUE } from '../workflows/shared/contract.ts';
import type { provisionTenant } from '../workflows/provision-tenant.ts';
import { principalOf } from './auth.ts';
import { ApiError } from './errors.ts';

/** What the admin routes need. */
export interface AdminRoutesDeps {
  appDb: Queryable;
  kv: KvCache;
  temporal: Pick<Client, 'workflow'>;
  taskQueue?: string;
  /** Last day of a template's demo orders (YYYY-MM-DD); default today. */
  anchorDate?: string;
  /** How long POST /v1/admin/tenants waits for provisioning before answering 202. */
  provisionWaitMs?: number;
  runtime?: { offlineModelUrl?: string; deployment: 'single-process' | 'split'; services?: { redis: boolean; postgres: boolean } };
}

/** Demo tenants whose data and documents a new tenant can start with. */
const TEMPLATES = ['acme', 'globex'] as const;

const createTenantBody = z
  .object({
    id: z.string().regex(TENANT_ID_PATTERN, 'lowercase letters, digits and _, starting with a letter, at most 63'),
    name: z.string().trim().min(1).max(200).optional(),
    /** Start with a demo shop's data and documents; null or absent: empty tables, no documents. */
    template: z.enum(TEMPLATES).nullable().optional(),
    settings: tenantSettingsPatch.optional(),
  })
  .strict();

function requireAdmin(req: Request): void {
  if (principalOf(req).kind !== 'admin') throw new ApiError(403, 'admin_only', 'This route needs an admin key (npm run create-key -- --admin)');
}

const provisionId = (tenantId: string) => `provision-${tenantId}`;

/** POST/GET /v1/admin/tenants, GET /v1/admin/tenants/:id, POST /v1/admin/tenants/:id/keys, PATCH /v1/admin/tenants/:id/settings, GET /v1/admin/runtime. */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router();

  // How this deployment runs, where its offline model answers (the benchmark sets its latency profiles there).
  router.get('/v1/admin/runtime', (req, res) => {
    requireAdmin(req);
    // The pid lets the benchmark (on this machine) read the CPU of this process and of the ones it started.
    res.json({ deployment: deps.runtime?.deployment ?? 'split', offlineModelUrl: deps.runtime?.offlineModelUrl ?? null, pid: process.pid, services: deps.runtime?.services ?? null });
  });

  const tenantParam = async (req: Request): Promise<string> => {
    const id = String(req.params.tenantId ?? '');
    if (!TENANT_ID_PATTERN.test(id)) throw new ApiError(404, 'tenant_not_found', 'No such tenant');
    if (!(await tenantExists(deps.appDb, id))) throw new ApiError(404, 'tenant_not_found', 'No such tenant');
    return id;
  };

  /** The provisioning workflow's state: done (with what it made), running, or failed. */
  const provisioning = async (tenantId: string, waitMs: number): Promise<{ status: 'ready' | 'provisioning' | 'failed'; result?: ProvisionTenantResult; error?: string }> => {
    const handle = deps.temporal.workflow.getHandle<typeof provisionTenant>(provisionId(tenantId));
    try {
      const result = await Promise.race([handle.result(), new Promise<null>((r) => setTimeout(() => r(null), waitMs))]);
      return result ? { status: 'ready', result } : { status: 'provisioning' };
    } catch (err) {
      return { status: 'failed', error: (err as Error).message };
    }
  };

  router.post('/v1/admin/tenants', async (req, res) => {
    requireAdmin(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const body = createTenantBody.parse(req.body ?? {});
    if (!(await createTenant(deps.appDb, body.id, body.name ?? body.id))) throw new ApiError(409, 'tenant_exists', `Tenant ${body.id} exists; issue a key with POST /v1/admin/tenants/${body.id}/keys`);
    const settings = body.settings ? await updateTenantSettings(deps.appDb, deps.kv, body.id, body.settings) : (await loadTenantContext(deps.appDb, deps.kv, body.id)).settings;
    const apiKey = await createTenantKey(deps.appDb, body.id, 'created by POST /v1/admin/tenants');
    const input: ProvisionTenantInput = { tenantId: body.id, template: body.template ?? null, anchorDate: deps.anchorDate ?? new Date().toISOString().slice(0, 10) };
    try {
      await deps.temporal.workflow.start<typeof provisionTenant>('provisionTenant', { taskQueue: deps.taskQueue ?? TURN_TASK_QUEUE, workflowId: provisionId(body.id), args: [input] });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    req.log?.info({ tenantId: body.id, template: input.template }, 'tenant created; provisioning');
    const state = await provisioning(body.id, deps.provisionWaitMs ?? 120_000);
    // The key is shown once, here; only its hash is stored.
    res.status(state.status === 'ready' ? 201 : 202).json({ tenantId: body.id, apiKey: apiKey, settings, provisioning: state });
  });

  router.get('/v1/admin/tenants', async (req, res) => {
    requireAdmin(req);
    res.json({ tenants: await listTenants(deps.appDb) });
  });

  router.get('/v1/admin/tenants/:tenantId', async (req, res) => {
    requireAdmin(req);
    const id = await tenantParam(req);
    const { settings, generation } = await loadTenantContext(deps.appDb, deps.kv, id);
    const state = await provisioning(id, 0).catch(() => ({ status: 'unknown' as const }));
    res.json({ tenantId: id, settings, cacheGeneration: generation, provisioning: state });
  });

  router.post('/v1/admin/tenants/:tenantId/keys', async (req, res) => {
    requireAdmin(req);
    const id = await tenantParam(req);
    res.status(201).json({ tenantId: id, apiKey: await createTenantKey(deps.appDb, id, 'created by POST /v1/admin/tenants/:id/keys') });
  });

  router.patch('/v1/admin/tenants/:tenantId/settings', async (req, res) => {
    requireAdmin(req);
    const id = await tenantParam(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const settings = await updateTenantSettings(deps.appDb, deps.kv, id, tenantSettingsPatch.parse(req.body ?? {}));
    res.json({ tenantId: id, settings });
  });

  return router;
}

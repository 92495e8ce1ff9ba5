// GET /v1/stats: a tenant's turn statistics over a time window. The route checks the window and who may see
// which tenant; stats-store.ts reads the persisted results, stats-figures.ts computes the figures.
import { Router } from 'express';
import type { Admission, AdmissionOverview, AdmissionUsage } from '../activities/admission/admission.ts';
import { feedbackCounts, NO_FEEDBACK, type FeedbackStats } from '../activities/feedback/store.ts';
import { listTenants, loadTenantContext, tenantExists } from '../activities/tenant/store.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import type { Queryable } from '../infra/db.ts';
import { TENANT_ID_PATTERN } from '../workflows/shared/contract.ts';
import { principalOf } from './auth.ts';
import { ApiError } from './errors.ts';
import { aggregateTurnStats, type TurnStats, type TurnStatsInput } from './stats-figures.ts';
import { readTurnResults } from './stats-store.ts';

/** Rows read at most per request: the newest this many turns of the window (`sampled: true` beyond). */
export const STATS_MAX_ROWS = 50_000;
export const STATS_DEFAULT_WINDOW = '1h';
const MINUTE_MS = 60_000;
const WINDOW_UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS } as const;
const MAX_WINDOW_MS = 30 * WINDOW_UNIT_MS.d;

/** A `window` query value: `<n>m`, `<n>h` or `<n>d`, 1 minute to 30 days; a 400 otherwise. */
export function parseStatsWindow(raw: unknown): { label: string; ms: number } {
  const value = raw === undefined ? STATS_DEFAULT_WINDOW : raw;
  const match = typeof value === 'string' ? /^([1-9]\d{0,5})([mhd])$/.exec(value) : null;
  const ms = match ? Number(match[1]) * WINDOW_UNIT_MS[match[2] as keyof typeof WINDOW_UNIT_MS] : NaN;
  if (!match || !(ms >= MINUTE_MS && ms <= MAX_WINDOW_MS)) {
    throw new ApiError(400, 'invalid_window', 'window is <n>m, <n>h or <n>d, from 1m to 30d (e.g. 15m, 1h, 7d)', { window: typeof value === 'string' ? value : String(value) });
  }
  return { label: value as string, ms };
}

/** The response of GET /v1/stats. */
export type StatsResponse = {
  window: string;
  from: string;
  to: string;
  /** The tenant the figures are of; null: every tenant (admin key), with `byTenant`. */
  tenant: string | null;
  /** True when the window had more turns than were read: the figures are of the newest `STATS_MAX_ROWS`. */
  sampled: boolean;
  /** Feedback given (or last changed) in the window, on turns of any age: thumbs up and down, corrections, examples stored. */
  feedback: FeedbackStats;
  byTenant?: Record<string, TurnStats & { feedback: FeedbackStats }>;
  /**
   * Admission now: one tenant's limits, running turns, today's usage and this process's refusals; for an
   * admin key without `tenant=`, this process's and the deployment's running turns and bounds, and every tenant's.
   */
  admission?: AdmissionUsage | AdmissionOverview;
} & TurnStats;

/** What the stats route needs. */
export interface StatsRoutesDeps {
  appDb: Queryable;
  /** With `admission`: the tenant's settings are read through it (cached). */
  kv?: Pick<KvCache, 'get' | 'set'>;
  admission?: Admission;
  /** Row cap (tests lower it). */
  maxRows?: number;
  now?: () => number;
}

/**
 * GET /v1/stats?window=1h[&tenant=<id>]: figures of the caller's turns created within the window. A tenant
 * key sees only its own tenant: `?tenant=` naming another is a 404, as another tenant's turn is. An admin
 * key sees every tenant, with `byTenant`, or one with `?tenant=`.
 */
export function statsRoutes(deps: StatsRoutesDeps): Router {
  const router = Router();
  const maxRows = deps.maxRows ?? STATS_MAX_ROWS;
  const now = deps.now ?? Date.now;

  router.get('/v1/stats', async (req, res) => {
    const principal = principalOf(req);
    const window = parseStatsWindow(req.query.window);
    const requested = req.query.tenant;
    if (requested !== undefined && (typeof requested !== 'string' || !TENANT_ID_PATTERN.test(requested))) {
      throw new ApiError(400, 'invalid_tenant', 'tenant is a tenant id (a-z, 0-9 and _, starting with a letter)');
    }
    const notFound = new ApiError(404, 'tenant_not_found', 'No such tenant');
    let tenant: string | null;
    if (principal.kind === 'tenant') {
      if (requested !== undefined && requested !== principal.tenantId) throw notFound;
      tenant = principal.tenantId;
    } else if (requested !== undefined) {
      if (!(await tenantExists(deps.appDb, requested))) throw notFound;
      tenant = requested;
    } else {
      tenant = null;
    }

    const to = now();
    const from = to - window.ms;
    // One row more than the cap tells a capped window from one that had exactly the cap.
    const [rows, feedback] = await Promise.all([
      readTurnResults(deps.appDb, { tenant, from, to, limit: maxRows + 1 }),
      feedbackCounts(deps.appDb, { tenant, from, to }),
    ]);
    const sampled = rows.length > maxRows;
    const kept = sampled ? rows.slice(0, maxRows) : rows;
    const body: StatsResponse = {
      window: window.label,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      tenant,
      sampled,
      ...aggregateTurnStats(kept.map((r) => r.result)),
      feedback: sumFeedback([...feedback.values()]),
    };
    if (tenant === null) {
      const byTenant = new Map<string, TurnStatsInput[]>();
      for (const r of kept) {
        let list = byTenant.get(r.tenant_id);
        if (!list) byTenant.set(r.tenant_id, (list = []));
        list.push(r.result);
      }
      // A tenant with feedback in the window but no turn in it (feedback on an older turn) is listed too.
      for (const id of feedback.keys()) if (!byTenant.has(id)) byTenant.set(id, []);
      body.byTenant = Object.fromEntries(
        [...byTenant].sort(([a], [b]) => a.localeCompare(b)).map(([id, list]) => [id, { ...aggregateTurnStats(list), feedback: feedback.get(id) ?? { ...NO_FEEDBACK } }]),
      );
    }
    if (deps.admission && deps.kv) {
      const kv = deps.kv;
      const limitsOf = async (id: string) => (await loadTenantContext(deps.appDb, kv, id)).settings.limits;
      if (tenant !== null) {
        body.admission = await deps.admission.usage(tenant, await limitsOf(tenant));
      } else {
        // The operator's view: every tenant (settings read through the shared cache), the process, the deployment.
        const tenants = await Promise.all((await listTenants(deps.appDb)).map(async (t) => ({ tenantId: t.id, limits: await limitsOf(t.id) })));
        body.admission = await deps.admission.overview(tenants);
      }
    }
    res.set('Cache-Control', 'private, no-store').json(body);
  });

  return router;
}

function sumFeedback(list: readonly FeedbackStats[]): FeedbackStats {
  const sum = { ...NO_FEEDBACK };
  for (const f of list) for (const k of Object.keys(sum) as (keyof FeedbackStats)[]) sum[k] += f[k];
  return sum;
}

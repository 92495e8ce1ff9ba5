// GET /v1/stats: a tenant's turn statistics over a time window, computed from the persisted turn results.
// `aggregateTurnStats` is pure (the unit tests feed it synthetic results); the route reads the rows.
import { Router } from 'express';
import type { Queryable } from '../infra/db.ts';
import { isDurationStep, listCostOf, turnOutcome } from '../infra/metrics.ts';
import { TENANT_ID_PATTERN, type TurnResult } from '../workflows/shared/contract.ts';
import { principalOf } from './auth.ts';
import { ApiError } from './errors.ts';

/** Rows read at most per request: the newest this many turns of the window (`sampled: true` beyond). */
export const STATS_MAX_ROWS = 50_000;
export const STATS_DEFAULT_WINDOW = '1h';
const MINUTE_MS = 60_000;
const WINDOW_UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS } as const;
const MAX_WINDOW_MS = 30 * WINDOW_UNIT_MS.d;

/** What the figures read of a turn result (a whole `TurnResult` is one; stored rows of older workers lack the optional parts). */
export type TurnStatsInput = Pick<TurnResult, 'cache' | 'intent' | 'fallbacks' | 'usage' | 'costUsd' | 'timings'> &
  Partial<Pick<TurnResult, 'understanding' | 'provider' | 'error' | 'listCostUsd' | 'calls'>>;

/** Nearest-rank percentiles of a sample; null when there is none. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** One answer provider's calls in the answer step (`generateAnswer`). */
export interface ProviderStats {
  calls: number;
  /** Calls that streamed the answer: `won` a race, or `ok` (not raced). */
  wins: number;
  losses: number;
  errors: number;
  timeouts: number;
  stalls: number;
  continuations: number;
  cancelled: number;
  /** Of winning calls: call start to first content token. */
  firstTokenMs: Percentiles;
  /** Of winning calls: call start to end. */
  totalMs: Percentiles;
}

/** The figures of a set of turns. Rates are fractions (0..1), null when their denominator is 0. */
export interface TurnStats {
  turns: number;
  /** Ended with `done` and a real answer (generated or cached). */
  answered: number;
  /** Ended with `done` and the canned answer (every provider failed). */
  canned: number;
  /** Denied by the input guardrail (`error.code` content_policy). */
  guardrailDenials: number;
  /** Ended with another error. */
  failed: number;
  cancelled: number;
  cache: { exact: number; semantic: number; none: number; exactHitRate: number | null; semanticHitRate: number | null };
  /** Reconciled turns / turns whose understanding ran (not cache hits before it, not older rows without it). */
  reconcileRate: number | null;
  fallbacks: { turnsWithFallback: number; rate: number | null; byKind: Record<string, number> };
  /** Turns whose result lists its model calls (rows of older workers do not; `providers` counts only these). */
  callsRecorded: number;
  providers: Record<string, ProviderStats>;
  /** Of turns that ended with `done`: request to terminal event, and request to first token. */
  latency: { totalMs: Percentiles; firstTokenMs: Percentiles };
  steps: Record<string, { count: number } & Percentiles>;
  /** `cacheReadShare`: prompt-cache reads / all prompt tokens (input + cache reads + cache writes). */
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; cacheReadShare: number | null };
  cost: { totalUsd: number; perTurnUsd: number | null; listTotalUsd: number; listPerTurnUsd: number | null };
}

/** Nearest rank: the smallest sample with at least p% of the samples at or below it. */
export function percentiles(samples: readonly number[]): Percentiles {
  if (!samples.length) return { p50: null, p95: null, p99: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
  return { p50: at(50), p95: at(95), p99: at(99) };
}

const rate = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);
const usd = (n: number) => Math.round(n * 1e9) / 1e9;
const num = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? n : 0);

/** The figures of a set of turn results (any order). */
export function aggregateTurnStats(results: readonly TurnStatsInput[]): TurnStats {
  const outcomes = { answered: 0, canned: 0, blocked: 0, failed: 0, cancelled: 0 };
  const cache = { exact: 0, semantic: 0, none: 0 };
  let understood = 0;
  let reconciled = 0;
  let turnsWithFallback = 0;
  const byKind: Record<string, number> = {};
  let callsRecorded = 0;
  const providers = new Map<string, { stats: Omit<ProviderStats, 'firstTokenMs' | 'totalMs'>; ttft: number[]; total: number[] }>();
  const totalMs: number[] = [];
  const firstTokenMs: number[] = [];
  const steps = new Map<string, number[]>();
  const tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  let costUsd = 0;
  let listCostUsd = 0;

  for (const r of results) {
    const outcome = turnOutcome({ error: r.error, cache: r.cache, provider: r.provider });
    outcomes[outcome]++;
    cache[r.cache in cache ? r.cache : 'none']++;
    if (r.understanding && r.understanding.source?.detect !== 'none') {
      understood++;
      if (r.understanding.reconciled) reconciled++;
    }
    const fallbacks = r.fallbacks ?? [];
    if (fallbacks.length) turnsWithFallback++;
    for (const kind of new Set(fallbacks)) byKind[kind] = (byKind[kind] ?? 0) + 1;

    if (r.calls) {
      callsRecorded++;
      for (const c of r.calls) {
        if (c.step !== 'generateAnswer') continue;
        let p = providers.get(c.provider);
        if (!p) {
          p = { stats: { calls: 0, wins: 0, losses: 0, errors: 0, timeouts: 0, stalls: 0, continuations: 0, cancelled: 0 }, ttft: [], total: [] };
          providers.set(c.provider, p);
        }
        p.stats.calls++;
        switch (c.outcome) {
          case 'won':
          case 'ok':
            p.stats.wins++;
            if (typeof c.ttftMs === 'number') p.ttft.push(c.ttftMs);
            p.total.push(num(c.ms));
            break;
          case 'lost':
            p.stats.losses++;
            break;
          case 'failed':
            p.stats.errors++;
            break;
          case 'timeout':
            p.stats.timeouts++;
            break;
          case 'stalled':
            p.stats.stalls++;
            break;
          case 'continuation':
            p.stats.continuations++;
            break;
          case 'cancelled':
            p.stats.cancelled++;
            break;
        }
      }
    }

    if (outcome === 'answered' || outcome === 'canned') {
      if (typeof r.timings?.totalMs === 'number') totalMs.push(r.timings.totalMs);
      // Only a streamed model answer has a first token (rows stored before this rule gave canned answers totalMs).
      if (outcome === 'answered' && typeof r.timings?.ttftMs === 'number') firstTokenMs.push(r.timings.ttftMs);
    }
    for (const [name, ms] of Object.entries(r.timings?.steps ?? {})) {
      if (!isDurationStep(name) || typeof ms !== 'number') continue;
      let list = steps.get(name);
      if (!list) steps.set(name, (list = []));
      list.push(ms);
    }
    tokens.input += num(r.usage?.inputTokens);
    tokens.output += num(r.usage?.outputTokens);
    tokens.cacheRead += num(r.usage?.cacheReadTokens);
    tokens.cacheWrite += num(r.usage?.cacheWriteTokens);
    costUsd += num(r.costUsd);
    listCostUsd += num(listCostOf(r));
  }

  const turns = results.length;
  const prompt = tokens.input + tokens.cacheRead + tokens.cacheWrite;
  return {
    turns,
    answered: outcomes.answered,
    canned: outcomes.canned,
    guardrailDenials: outcomes.blocked,
    failed: outcomes.failed,
    cancelled: outcomes.cancelled,
    cache: { ...cache, exactHitRate: rate(cache.exact, turns), semanticHitRate: rate(cache.semantic, turns) },
    reconcileRate: rate(reconciled, understood),
    fallbacks: { turnsWithFallback, rate: rate(turnsWithFallback, turns), byKind: sortedRecord(byKind) },
    callsRecorded,
    providers: Object.fromEntries(
      [...providers].sort(([a], [b]) => a.localeCompare(b)).map(([name, p]) => [name, { ...p.stats, firstTokenMs: percentiles(p.ttft), totalMs: percentiles(p.total) }]),
    ),
    latency: { totalMs: percentiles(totalMs), firstTokenMs: percentiles(firstTokenMs) },
    steps: Object.fromEntries([...steps].sort(([a], [b]) => a.localeCompare(b)).map(([name, ms]) => [name, { count: ms.length, ...percentiles(ms) }])),
    tokens: { ...tokens, cacheReadShare: rate(tokens.cacheRead, prompt) },
    cost: {
      totalUsd: usd(costUsd),
      perTurnUsd: turns ? usd(costUsd / turns) : null,
      listTotalUsd: usd(listCostUsd),
      listPerTurnUsd: turns ? usd(listCostUsd / turns) : null,
    },
  };
}

function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
}

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
  byTenant?: Record<string, TurnStats>;
} & TurnStats;

/** What the stats route needs. */
export interface StatsRoutesDeps {
  appDb: Queryable;
  /** Row cap (tests lower it). */
  maxRows?: number;
  now?: () => number;
}

// The stored result without the parts the figures never read (the answer can be pages long).
const RESULT_FIGURES = `result - '{answer,slots,sources,chart,suggestion,guardrail,generation}'::text[] AS result`;

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
      const known = await deps.appDb.query('SELECT 1 FROM tenants WHERE id = $1', [requested]);
      if (!known.rowCount) throw notFound;
      tenant = requested;
    } else {
      tenant = null;
    }

    const to = now();
    const from = to - window.ms;
    // One row more than the cap tells a capped window from one that had exactly the cap.
    const { rows } = tenant
      ? await deps.appDb.query<{ tenant_id: string; result: TurnStatsInput }>(
          `SELECT tenant_id, ${RESULT_FIGURES} FROM turns WHERE tenant_id = $1 AND created_at > $2 AND created_at <= $3 ORDER BY created_at DESC LIMIT $4`,
          [tenant, new Date(from), new Date(to), maxRows + 1],
        )
      : await deps.appDb.query<{ tenant_id: string; result: TurnStatsInput }>(
          `SELECT tenant_id, ${RESULT_FIGURES} FROM turns WHERE created_at > $1 AND created_at <= $2 ORDER BY created_at DESC LIMIT $3`,
          [new Date(from), new Date(to), maxRows + 1],
        );
    const sampled = rows.length > maxRows;
    const kept = sampled ? rows.slice(0, maxRows) : rows;
    const body: StatsResponse = {
      window: window.label,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      tenant,
      sampled,
      ...aggregateTurnStats(kept.map((r) => r.result)),
    };
    if (tenant === null) {
      const byTenant = new Map<string, TurnStatsInput[]>();
      for (const r of kept) {
        let list = byTenant.get(r.tenant_id);
        if (!list) byTenant.set(r.tenant_id, (list = []));
        list.push(r.result);
      }
      body.byTenant = Object.fromEntries([...byTenant].sort(([a], [b]) => a.localeCompare(b)).map(([id, list]) => [id, aggregateTurnStats(list)]));
    }
    res.set('Cache-Control', 'private, no-store').json(body);
  });

  return router;
}

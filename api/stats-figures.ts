// The figures of GET /v1/stats from a set of turn results: outcomes, cache hit rates, reconcile and
// fallback rates, per-provider model-call figures, latency and step percentiles, tokens and cost. Pure (the
// unit tests feed it synthetic results).
import { isDurationStep, listCostOf, turnOutcome } from '../infra/metrics.ts';
import type { TurnResult } from '../workflows/shared/contract.ts';

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
          case 'speculative-won':
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
          case 'speculative-discarded':
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

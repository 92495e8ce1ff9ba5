// The result of a turn answered from a cache, built the same way by the workflow and by the API (which
// answers an exact hit itself). Pure: no I/O.
import type { CacheOutcome, TurnResult } from './contract.ts';
import type { Complexity, IntentOrUnknown, Slots } from './understanding.ts';

/** What both caches keep of an answer (the exact cache's entry; the semantic cache's row). */
export interface CachedAnswerFields {
  answer: string;
  intent: IntentOrUnknown;
  complexity: Complexity;
  slots?: Slots;
  provider?: string;
  model?: string;
  sources?: { slug: string; title: string }[];
  chart?: { id: string; svgUrl: string; pngUrl: string };
}

/** `base` answered by a cached answer: the cached turn's answer, intent, slots and sources, its chart. */
export function cachedTurnResult(base: TurnResult, cached: CachedAnswerFields, cache: Exclude<CacheOutcome, 'none'>, totalMs: number, similarity?: number): TurnResult {
  const result: TurnResult = {
    ...base,
    answer: cached.answer,
    cache,
    // A hit answers as the cached turn was understood, so the reported intent matches the answer.
    intent: cached.intent,
    complexity: cached.complexity,
    slots: cached.slots ?? base.slots,
    provider: cached.provider,
    model: cached.model,
    ...(cached.sources?.length ? { sources: cached.sources } : {}),
    ...(cached.chart ? { chart: cached.chart } : {}),
    // No model streamed this answer: its time is totalMs, and there is no first-token time to report.
    timings: { ...base.timings, totalMs, ttftMs: null },
    ...(similarity !== undefined ? { similarity } : {}),
  };
  delete result.suggestion;
  return result;
}

// Phase 5: the streamed answer. One activity races the tenant's providers (hedged, on the first content
// token, with stall failover inside; see activities/generate-answer/race.ts) and Temporal retries it
// with jittered delays that honour Retry-After. Then the fallback hierarchy: a strong-tier answer that
// keeps failing is tried once on the fast tier; the turn's deadline switches to the simplified flow (no
// retrieval, fast tier, short); last, a canned answer that says what failed.
import { isCancellation, log } from '@temporalio/workflow';
import type { GatheredContext } from '../../activities/gather/activities.ts';
import type { GenerateAnswerInput, GenerateAnswerOutput } from '../../activities/generate-answer/activities.ts';
import { failedCallsText } from '../shared/answers.ts';
import { generationFallbacks } from '../shared/answered-result.ts';
import type { ModelCall } from '../shared/contract.ts';
import { EFFORT_BY_COMPLEXITY } from '../shared/effort.ts';
import { FAILURE_TYPES } from '../shared/failures.ts';
import type { TenantSettings } from '../shared/tenant-settings.ts';
import type { Slots } from '../shared/understanding.ts';
import type { Turn } from './context.ts';
import { failureCalls, failureType } from './failure.ts';
import { llm, llmFallback } from './proxies.ts';
import type { Route } from './route.ts';

/** What the answer is about; the race's settings come from the tenant's. */
export type AnswerRequest = Omit<GenerateAnswerInput, 'provider' | 'providers' | 'strategy' | 'hedgeDelayMs' | 'stallTimeoutMs' | 'firstTokenDeadline' | 'progress' | 'deliver' | 'hold'>;

/** Have the answer activity deliver the turn (`done` the moment the answer is complete), with the chart to render beside it. */
export interface DeliverFromAnswer {
  chart?: { resultRef: string; slots: Slots };
}

/** What the answer of `route` is about: the question, the history, the data and the documents found for it. */
export function answerRequest(
  turn: Turn,
  context: GatheredContext,
  route: Route,
  data: { resultRef: string } | null,
  docs: { chunks: { id: number }[] } | null,
): AnswerRequest {
  const { input } = turn;
  return {
    stream: turn.stream,
    tenantId: input.tenantId,
    message: turn.redactedMessage,
    history: context.history,
    receivedAt: input.receivedAt,
    maxTokens: route.effort.maxTokens,
    tier: route.effort.tier,
    audience: { displayName: context.profile?.displayName, locale: context.profile?.locale, language: turn.opened!.language },
    knowledgeChunkIds: docs?.chunks.map((c) => c.id) ?? [],
    ...(data ? { data: { ref: data.resultRef, slots: route.slots } } : {}),
  };
}

/** The race's settings from the tenant's, and the tier an answer of this effort gets. */
export function raceOf(settings: Pick<TenantSettings, 'generation'>, tier: 'fast' | 'strong') {
  const g = settings.generation;
  return { providers: g.providers, strategy: g.strategy, hedgeDelayMs: g.hedgeDelayMs, stallTimeoutMs: g.stallTimeoutMs, tier: g.tiered ? tier : ('strong' as const) };
}

/** One answer attempt's outcome: the answer, or the failure's type and the calls it made. */
export type Attempted = { ok: true; value: GenerateAnswerOutput } | { ok: false; type?: string; calls: ModelCall[] };

/**
 * One call of the answer activity through `proxy`, delivering the turn from the activity (with the chart to
 * render beside it). Its failed calls join the turn's; a failed provider while another answered is a fallback.
 */
export async function callAnswer(turn: Turn, proxy: typeof llm, input: GenerateAnswerInput, chart?: DeliverFromAnswer['chart']): Promise<Attempted> {
  try {
    // The draft is taken now, so it carries every fallback so far (a tier downgrade, the simplified flow).
    const deliver = { draft: turn.draft(), inputRedactions: turn.guardRedactions, failOpen: turn.failOpen, ...(chart ? { chart } : {}) };
    const value = await turn.timed('generateAnswer', () => proxy.generateAnswer({ ...input, deliver, progress: input.hold ? [] : turn.takeProgress() }));
    // The answer's calls join the turn's in its result (answeredTurnResult), as the answer activity counts them.
    noteFailedProviders(turn, value.calls ?? [], value.provider);
    return { ok: true, value };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const calls = failureCalls(err);
    turn.addCalls(calls);
    noteFailedProviders(turn, calls, null);
    const type = failureType(err);
    if (type !== FAILURE_TYPES.speculationDiscarded) log.warn('generation failed', { error: String(err) });
    return { ok: false, type, calls };
  }
}

/** The generated answer, or null when every way to one failed (`turn.cannedReason` says why). */
export async function generate(
  turn: Turn,
  request: AnswerRequest,
  settings: Pick<TenantSettings, 'generation' | 'deadlines'>,
  deadlineAt: number,
  deliver: DeliverFromAnswer,
  /** A first attempt already made (a released speculative answer that failed): the fallbacks go on from it. */
  tried?: Attempted,
): Promise<GenerateAnswerOutput | null> {
  const { tier, ...race } = raceOf(settings, request.tier);
  const attempt = (proxy: typeof llm, input: GenerateAnswerInput, chart?: DeliverFromAnswer['chart']) => callAnswer(turn, proxy, input, chart);

  let failed: { type?: string; calls: ModelCall[] } | null = null;
  if (Date.now() < deadlineAt) {
    const full = tried ?? (await attempt(llm, { ...request, ...race, tier, firstTokenDeadline: deadlineAt }, deliver.chart));
    if (full.ok) return full.value;
    failed = full;
    // A strong-tier model that keeps failing: its fast sibling is often still up (a tier downgrade).
    if (full.type !== FAILURE_TYPES.answerDeadline && tier === 'strong' && Date.now() < deadlineAt) {
      turn.fallback('generateAnswer:tier-downgrade');
      const fast = await attempt(llmFallback, { ...request, ...race, tier: 'fast', firstTokenDeadline: deadlineAt }, deliver.chart);
      if (fast.ok) return fast.value;
      failed = fast;
    }
  }
  if (!failed || failed.type === FAILURE_TYPES.answerDeadline) {
    // The whole-turn deadline passed: the simplified flow (no retrieval, fast tier, short) gets its own budget.
    turn.fallback('turnDeadline:simplified');
    const simplified = await attempt(llmFallback, {
      ...request,
      ...race,
      knowledgeChunkIds: [],
      data: undefined,
      tier: 'fast',
      maxTokens: EFFORT_BY_COMPLEXITY.trivial.maxTokens,
      firstTokenDeadline: Date.now() + settings.deadlines.simplifiedMs,
    });
    if (simplified.ok) return simplified.value;
    const what = failedCallsText(simplified.calls);
    turn.cannedReason = `the answer took too long${what ? ` (${what})` : ''}`;
    return null;
  }
  const what = failedCallsText(failed.calls);
  turn.cannedReason = `the answer models are unavailable${what ? ` (${what})` : ''}`;
  return null;
}

/** A provider that failed while another answered (or none did) is a fallback: `generateAnswer:<provider>`. */
function noteFailedProviders(turn: Turn, calls: ModelCall[], winner: string | null): void {
  for (const f of generationFallbacks(calls, winner)) turn.fallback(f);
}

// FROZEN: the turn as it ran before the `critical-path` patch (workflows/chat-turn.ts), kept verbatim so
// that runs recorded before it still replay (README, "Changing the workflow"). Nothing new goes here; the
// file goes when the patch is deprecated (an hour after the release that added it).
import { deprecatePatch, isCancellation, log } from '@temporalio/workflow';
import type { SemanticCandidate } from '../../activities/caches/semantic-store.ts';
import type { GatheredContext } from '../../activities/gather/activities.ts';
import type { InputGuardrailResult } from '../../activities/guardrails/activities.ts';
import type { ModelCall, TurnResult } from '../shared/contract.ts';
import { EFFORT_BY_COMPLEXITY } from '../shared/effort.ts';
import { slotSignature } from '../shared/slot-signature.ts';
import { DEFAULT_TENANT_SETTINGS, UNCACHEABLE_INTENTS } from '../shared/tenant-settings.ts';
import type { CaptureResult, DetectResult, ReconcileReason } from '../shared/understanding.ts';
import type { Turn } from './context.ts';
import { generate } from './generate.ts';
import { checks, lookups, retrieval, sqlAgent, understanding } from './proxies.ts';
import { reconcileReasons } from './reconcile.ts';
import { decideSemantic } from './semantic.ts';
import { checkInput, type Understood } from './understand.ts';

const NO_CONTEXT: GatheredContext = { history: [], profile: null, schema: null, fallbacks: [] };

/** Phases 2–6 of a turn as recorded before `critical-path` (after `openTurn`), each exit through `turn.finish`. */
export async function answerTurnBeforeCriticalPath(turn: Turn): Promise<TurnResult> {
  const { input } = turn;

  // 2. Understand: input guardrail | gather | capture | detect | semantic search, then reconcile. A deny stops the rest.
  const understood = await understandBeforeCriticalPath(turn);
  if (understood.blocked) return turn.finish({ kind: 'blocked', guard: understood.blocked });
  if (understood.early) {
    // A semantic hit on the rules' signature: answered now; the model calls still running are stopped.
    const result = await turn.finish({ kind: 'cached', cache: 'semantic', cached: understood.early.hit, similarity: understood.early.hit.similarity, stopWork: true });
    await understood.early.rest;
    return result;
  }

  // 3. Semantic cache: the nearest cached questions came with the embedding; a hit needs the threshold and
  // the same slot signature ("sales last week" never answers "last month"); a close miss is a suggestion.
  const { intent, slots, complexity } = turn.understanding;
  // Settings loaded before a section existed (an older worker's, in this turn's history) get its defaults.
  const settings = { ...DEFAULT_TENANT_SETTINGS, ...turn.opened!.tenant.settings };
  // The whole-turn deadline: phases bound themselves by it, and generation switches to the simplified flow past it.
  const deadlineAt = input.receivedAt + settings.deadlines.turnMs;
  if (understood.semantic && !UNCACHEABLE_INTENTS.includes(intent)) {
    const { vector, model, candidates } = understood.semantic;
    const signature = slotSignature(intent, slots);
    const { hit, suggestion } = decideSemantic(candidates, signature, settings.semanticCache.threshold);
    if (hit) return turn.finish({ kind: 'cached', cache: 'semantic', cached: hit, similarity: hit.similarity });
    if (suggestion) turn.suggestion = suggestion;
    turn.semanticWrite = { vector, model, intent, signature };
  }

  // 4. Data and documents, in parallel when a question needs both: the SQL agent for analytics, the
  // tenant's documents for policy questions (how many passages, by complexity). The phase has a budget:
  // each step stops at it, and what the other finished is used.
  const effort = EFFORT_BY_COMPLEXITY[complexity];
  const dataDeadline = Math.min(Date.now() + settings.deadlines.dataMs, deadlineAt);
  const similar = understood.semantic ? { vector: understood.semantic.vector, model: understood.semantic.model } : {};
  const wantsDocs = intent === 'knowledge' || Boolean(slots.topic);
  // Without something to measure or break down there is no query to write: the answer asks instead.
  const wantsData = intent === 'analytics' && Boolean(slots.metric || slots.dimension);
  if (intent === 'analytics' && !wantsData) turn.step('runSqlAgent', 'skipped', { reason: 'no metric or dimension' });
  if (wantsDocs && effort.topK === 0) turn.step('retrieveKnowledge', 'skipped', { reason: 'trivial' });
  const fetchData = () =>
    wantsData
      ? turn.orFallback(
          'runSqlAgent',
          () =>
            sqlAgent.runSqlAgent({
              stream: turn.stream,
              tenantId: input.tenantId,
              question: turn.redactedMessage,
              slots,
              today: turn.opened!.tenant.today,
              timeZone: turn.opened!.tenant.timeZone,
              deadlineAt: dataDeadline,
              ...similar,
            }),
          null,
        )
      : Promise.resolve(null);
  const fetchDocs = () =>
    wantsDocs && effort.topK > 0
      ? turn.orFallback(
          'retrieveKnowledge',
          () =>
            retrieval.retrieveKnowledge({
              tenantId: input.tenantId,
              generation: turn.opened!.tenant.generation,
              question: turn.redactedMessage,
              topK: effort.topK,
              deadlineAt: dataDeadline,
              ...(slots.topic ? { topic: slots.topic } : {}),
              ...similar,
            }),
          null,
        )
      : Promise.resolve(null);
  // A benchmark's baseline runs them one after another (tenant setting `pipeline.parallel`).
  const [data, knowledge] = settings.pipeline.parallel ? await Promise.all([fetchData(), fetchDocs()]) : [await fetchData(), await fetchDocs()];
  if (wantsData) turn.step('runSqlAgent', data ? 'completed' : 'failed');
  turn.addCalls(data?.calls);
  // The agent's stages and its self-corrections, for `done.timings.steps` and the operator.
  if (data) for (const [stage, ms] of Object.entries(data.timings)) turn.steps[`runSqlAgent.${stage}`] = ms;
  if (data && data.attempts > 1) turn.steps['runSqlAgent.attempts'] = data.attempts;
  if (wantsDocs && effort.topK > 0) turn.step('retrieveKnowledge', knowledge ? 'completed' : 'failed');
  const knowledgeChunkIds = knowledge?.chunks.map((c) => c.id) ?? [];

  // 5. Generate, streamed; effort (answer length, model tier) by complexity. The answer activity delivers
  // the turn itself (output check, the chart rendered beside the answer, `done`) the moment the answer is
  // complete: `done` does not wait for the workflow task that follows it.
  deprecatePatch('deliver-from-answer');
  const generated = await generate(
    turn,
    {
      stream: turn.stream,
      tenantId: input.tenantId,
      message: turn.redactedMessage,
      history: understood.context.history,
      receivedAt: input.receivedAt,
      maxTokens: effort.maxTokens,
      tier: effort.tier,
      audience: { displayName: understood.context.profile?.displayName, locale: understood.context.profile?.locale, language: turn.understanding.language },
      knowledgeChunkIds,
      ...(data ? { data: { ref: data.resultRef, slots } } : {}),
    },
    settings,
    deadlineAt,
    data ? { chart: { resultRef: data.resultRef, slots } } : {},
  );
  turn.chart = generated?.chart ?? undefined;
  if (!generated) return turn.finish({ kind: 'canned' });
  if (generated.delivered) return turn.finish({ kind: 'answered', generated, output: generated.output!, delivered: generated.delivered });

  // 6. Output guardrail on the whole answer (the stream was redacted token by token), then out.
  const output =
    generated.output ??
    (await turn.orFallback('checkOutputGuardrails', () => checks.checkOutputGuardrails({ tenantId: input.tenantId, answer: generated.answer }), {
      answer: generated.answer,
      redactions: 0,
      violations: [] as string[],
    }));
  return turn.finish({ kind: 'answered', generated, output });
}

/** A settled step: its value, or that it failed (the caller decides whether that is a fallback). */
type Settled<T> = { ok: true; value: T } | { ok: false };

/** Guardrail | gather | capture | detect | embed in parallel, then reconcile detect with the captured slots. */
async function understandBeforeCriticalPath(turn: Turn): Promise<Understood> {
  const { input } = turn;
  const opened = turn.opened!;
  const { settings, today, timeZone } = opened.tenant;

  const settle = <T>(name: string, fn: () => Promise<T>): Promise<Settled<T>> =>
    turn.timed(name, fn).then(
      (value) => ({ ok: true as const, value }),
      (err) => {
        if (isCancellation(err)) throw err;
        log.warn('step failed', { step: name, error: String(err) });
        return { ok: false as const };
      },
    );
  const steps = [
    () => settle('gatherContext', () => lookups.gatherContext({ tenantId: input.tenantId, sessionId: input.sessionId, userId: input.userId })),
    () => settle('captureSlots', () => understanding.captureSlots({ message: input.message, today, timeZone, previous: opened.previous })),
    () => settle('detectIntent', () => understanding.detectIntent({ message: input.message, pass: 1 })),
    () =>
      settings.semanticCache.enabled
        ? settle('searchSemanticCache', () =>
            understanding.searchSemanticCache({
              text: input.message,
              tenantId: input.tenantId,
              generation: opened.tenant.generation,
              threshold: settings.semanticCache.threshold,
              suggestThreshold: settings.semanticCache.suggestThreshold,
            }),
          )
        : Promise.resolve({ ok: false as const }),
  ] as const;

  let guard: InputGuardrailResult;
  let settled: [Settled<GatheredContext>, Settled<CaptureResult & { calls?: ModelCall[] }>, Settled<DetectResult & { calls?: ModelCall[] }>, Settled<{ vector: number[]; model: string; candidates: SemanticCandidate[] }>];
  if (settings.pipeline?.parallel === false) {
    // One step after another (a benchmark's baseline): the guardrail first, and nothing else after a deny.
    guard = await checkInput(turn);
    if (!guard.allowed) {
      turn.step('checkInputGuardrails', 'failed', { reason: guard.reasons.join(', ') });
      return { blocked: guard, context: NO_CONTEXT, semantic: null };
    }
    const results: unknown[] = [];
    for (const step of steps) results.push(await step());
    settled = results as typeof settled;
  } else {
    // Everything that can start at once does. A deny stops this work inside the worker (the guard aborts the
    // turn's running model calls, see activities/turn-aborts.ts), so waiting for it below costs next to nothing.
    const started = steps.map((step) => step());
    const running = Promise.all(started);
    guard = await checkInput(turn);
    // The semantic cache decides on the rules' slot signature the moment the search is back, so a hit
    // does not wait for the capture and detect model calls (which it then stops).
    const rules = opened.rules;
    if (guard.allowed && rules && settings.semanticCache.enabled && settings.semanticCache.decideEarly && !UNCACHEABLE_INTENTS.includes(rules.intent)) {
      const search = (await started[3]) as Settled<{ vector: number[]; model: string; candidates: SemanticCandidate[] }>;
      const early = search.ok ? decideSemantic(search.value.candidates, rules.signature, settings.semanticCache.threshold).hit : null;
      if (early) {
        turn.step('checkInputGuardrails', 'completed');
        turn.step('searchSemanticCache', 'completed', { reason: 'hit on the rules’ slot signature' });
        return { blocked: null, context: NO_CONTEXT, semantic: null, early: { hit: early, rest: running } };
      }
    }
    // After a deny the work ends at once (aborted). When the check itself failed and the tenant fails
    // closed, nothing aborted it: the turn waits for it (bounded by the understanding timeouts).
    settled = (await running) as typeof settled;
  }
  const [gathered, captureStep, detectStep, searchStep] = settled;
  if (!guard.allowed) {
    turn.step('checkInputGuardrails', 'failed', { reason: guard.reasons.join(', ') });
    return { blocked: guard, context: NO_CONTEXT, semantic: null };
  }
  turn.step('checkInputGuardrails', 'completed');

  const context = gathered.ok ? gathered.value : NO_CONTEXT;
  if (!gathered.ok) turn.fallback('gatherContext');
  for (const part of context.fallbacks) turn.fallback(`gatherContext:${part}`);
  turn.step('gatherContext', gathered.ok ? 'completed' : 'failed');
  const captured: CaptureResult | null = captureStep.ok ? captureStep.value : null;
  const detected: DetectResult | null = detectStep.ok ? detectStep.value : null;
  const semantic = searchStep.ok ? searchStep.value : null;
  turn.addCalls(captureStep.ok ? captureStep.value.calls : undefined);
  turn.addCalls(detectStep.ok ? detectStep.value.calls : undefined);
  if (!captured) turn.fallback('captureSlots');
  if (!detected) turn.fallback('detectIntent');
  if (settings.semanticCache.enabled) {
    if (!semantic) turn.fallback('searchSemanticCache');
    turn.step('searchSemanticCache', semantic ? 'completed' : 'failed');
  }

  // Capture and detect fall back to rules inside their activities; that still counts as a fallback.
  if (captured?.source === 'rules') turn.fallback('captureSlots:rules');
  if (detected?.source === 'rules') turn.fallback('detectIntent:rules');
  let detect: DetectResult = detected ?? { intent: 'unknown', confidence: 0, complexity: 'simple', source: 'rules' };
  const slots = captured?.slots ?? {};
  turn.step('captureSlots', captured ? 'completed' : 'failed');
  turn.step('detectIntent', detected ? 'completed' : 'failed');

  const reasons: ReconcileReason[] = captured ? reconcileReasons(detect, captured, settings.understanding) : [];
  if (reasons.length > 0) {
    // The decision and its reasons are in the history as this activity's input, and in `done.understanding`.
    log.info('reconciling intent with the captured slots', { reasons });
    const second = await turn.orFallback('reconcileIntent', () => understanding.detectIntent({ message: input.message, slots, pass: 2, reasons }), null as Awaited<ReturnType<typeof understanding.detectIntent>> | null);
    if (second) {
      turn.addCalls(second.calls);
      if (second.source === 'rules') turn.fallback('reconcileIntent:rules');
      detect = second;
    }
    turn.step('reconcileIntent', second ? 'completed' : 'failed', { reason: reasons.join(', ') });
  }

  turn.understanding = {
    intent: detect.intent,
    confidence: detect.confidence,
    complexity: detect.complexity,
    slots,
    language: opened.language,
    reconciled: reasons.length > 0,
    reconcileReasons: reasons,
    source: { capture: captured?.source ?? 'none', detect: detected ? detect.source : 'none' },
  };
  return { blocked: null, context, semantic };
}

// Phase 2 of a turn: the input guardrail beside everything else that can start at once (gathering,
// capture, detect, embedding); a deny stops that work. Then the reconcile pass.
import { isCancellation, log } from '@temporalio/workflow';
import type { CachedAnswer } from '../../activities/caches/exact-key.ts';
import type { SemanticCandidate } from '../../activities/caches/semantic-store.ts';
import type { GatheredContext } from '../../activities/gather/activities.ts';
import type { InputGuardrailResult } from '../../activities/guardrails/activities.ts';
import type { ModelCall } from '../shared/contract.ts';
import type { CaptureResult, DetectResult, ReconcileReason } from '../shared/understanding.ts';
import type { Turn } from './context.ts';
import { checks, lookups, understanding } from './proxies.ts';
import { reconcileReasons } from './reconcile.ts';
import { decideSemantic } from './semantic.ts';
import { UNCACHEABLE_INTENTS } from '../shared/tenant-settings.ts';

/** What the understanding phase hands to the rest of the turn. */
export interface Understood {
  /** Set when the input guardrail denied the message (or failed, and the tenant fails closed). */
  blocked: InputGuardrailResult | null;
  context: GatheredContext;
  /** The question's embedding and the tenant's nearest cached questions (null when the search is off or failed). */
  semantic: { vector: number[]; model: string; candidates: SemanticCandidate[] } | null;
  /**
   * A semantic hit decided on the rules' slot signature as soon as the search returned: the turn answers it
   * at once, stops the model calls still running, and waits for `rest` (them ending) before it ends.
   */
  early?: { hit: CachedAnswer & { similarity: number }; rest: Promise<unknown> };
}

const NO_CONTEXT: GatheredContext = { history: [], profile: null, schema: null, fallbacks: [] };

/** A settled step: its value, or that it failed (the caller decides whether that is a fallback). */
type Settled<T> = { ok: true; value: T } | { ok: false };

/** Guardrail | gather | capture | detect | embed in parallel, then reconcile detect with the captured slots. */
export async function understand(turn: Turn): Promise<Understood> {
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

/** The input guardrail; when the check itself fails, the tenant's setting decides: closed blocks, open lets through. */
async function checkInput(turn: Turn): Promise<InputGuardrailResult> {
  const settings = turn.opened!.tenant.settings;
  try {
    const guard = await turn.timed('checkInputGuardrails', () =>
      checks.checkInputGuardrails({ message: turn.input.message, deniedTopics: settings.guardrails.deniedTopics }),
    );
    turn.redactedMessage = guard.redactedMessage;
    turn.guardRedactions = guard.redactions;
    return guard;
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('input guardrail failed', { error: String(err), failMode: settings.guardrails.failMode });
    if (settings.guardrails.failMode === 'open') {
      turn.fallback('checkInputGuardrails:fail-open');
      turn.failOpen = true;
      return { allowed: true, reasons: [], redactedMessage: turn.input.message, redactions: 0 };
    }
    turn.fallback('checkInputGuardrails:fail-closed');
    return { allowed: false, reasons: ['guardrail-unavailable'], redactedMessage: turn.input.message, redactions: 0 };
  }
}

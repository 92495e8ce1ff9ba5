// Phase 2 of a turn: the input guardrail beside everything else that can start at once (gathering, the
// semantic search, retrieval when the rules read a policy question, and the model's capture and detect
// unless the rules are sure); a deny stops that work. While the model reads the question, the data, the
// documents and a held answer start on the rules' reading (speculate.ts). Then the reconcile pass, only
// when its result can change the route.
import { isCancellation, log } from '@temporalio/workflow';
import type { CachedAnswer } from '../../activities/caches/exact-key.ts';
import type { SemanticCandidate } from '../../activities/caches/semantic-store.ts';
import type { GatheredContext } from '../../activities/gather/activities.ts';
import type { InputGuardrailResult } from '../../activities/guardrails/activities.ts';
import type { RetrievedChunk } from '../../activities/knowledge/store.ts';
import type { SqlAgentOutput } from '../../activities/sql/activities.ts';
import type { ModelCall } from '../shared/contract.ts';
import { UNCACHEABLE_INTENTS } from '../shared/tenant-settings.ts';
import type { CaptureResult, DetectResult, ReconcileReason } from '../shared/understanding.ts';
import type { Turn } from './context.ts';
import { fetchData, fetchDocs, type Similar } from './data.ts';
import { checks, lookups, understanding, understandingBeside } from './proxies.ts';
import { reconcileReasons, slotKeys } from './reconcile.ts';
import { modelAsked, rulesRoute, type Route } from './route.ts';
import { decideSemantic } from './semantic.ts';
import { speculate, type Speculation } from './speculate.ts';

type Search = { vector: number[]; model: string; candidates: SemanticCandidate[] };

/** What the understanding phase hands to the rest of the turn. */
export interface Understood {
  /** Set when the input guardrail denied the message (or failed, and the tenant fails closed). */
  blocked: InputGuardrailResult | null;
  context: GatheredContext;
  /** The question's embedding and the tenant's nearest cached questions (null when the search is off or failed). */
  semantic: Search | null;
  /**
   * A semantic hit decided on the rules' slot signature as soon as the search returned: the turn answers it
   * at once, stops the model calls still running, and waits for `rest` (them ending) before it ends.
   */
  early?: { hit: CachedAnswer & { similarity: number }; rest: Promise<unknown> };
  /** Retrieval started with the question, on the rules' route: used when the final route wants the same documents. */
  docs?: { route: Route; result: Promise<{ chunks: RetrievedChunk[] } | null> };
  /** The SQL agent started on the rules' route (they were sure, or speculation): used when the final route is the same. */
  data?: { route: Route; result: Promise<SqlAgentOutput | null> };
  /** Work started on the rules' route while the model read the question (`pipeline.speculate`). */
  speculation?: Speculation;
}

/** The phase's time bounds (epoch ms). */
export interface Deadlines {
  turn: number;
  data: number;
}

const NO_CONTEXT: GatheredContext = { history: [], profile: null, schema: null, fallbacks: [] };

/** A settled step: its value, or that it failed (the caller decides whether that is a fallback). */
type Settled<T> = { ok: true; value: T } | { ok: false };

/**
 * Guardrail | gather | search | early retrieval | (capture | detect, when asked), then — when the model was
 * asked — reconcile detect with the captured slots if that can change the route.
 */
export async function understand(turn: Turn, deadlines: Deadlines): Promise<Understood> {
  const { input } = turn;
  const opened = turn.opened!;
  const { settings, today, timeZone } = opened.tenant;
  const rules = rulesRoute(opened);
  const askModel = modelAsked(settings, opened.rules);

  const settle = <T>(name: string, fn: () => Promise<T>): Promise<Settled<T>> =>
    turn.timed(name, fn).then(
      (value) => ({ ok: true as const, value }),
      (err) => {
        if (isCancellation(err)) throw err;
        log.warn('step failed', { step: name, error: String(err) });
        return { ok: false as const };
      },
    );
  const skipped = Promise.resolve({ ok: false as const });
  const parallel = settings.pipeline.parallel !== false;
  const gathered = parallel ? settle('gatherContext', () => lookups.gatherContext({ tenantId: input.tenantId, sessionId: input.sessionId, userId: input.userId })) : null;
  // The API searched before it started the turn: its result is this turn's (a hit never reached here).
  const prepared = input.prepared?.semantic;
  if (prepared) turn.steps['searchSemanticCache'] = prepared.ms;
  const search = (): Promise<Settled<Search>> =>
    prepared !== undefined
      ? Promise.resolve(prepared ? { ok: true as const, value: { vector: prepared.vector, model: prepared.model, candidates: prepared.candidates } } : { ok: false as const })
      : settings.semanticCache.enabled
      ? settle('searchSemanticCache', () =>
          understanding.searchSemanticCache({
            text: input.message,
            tenantId: input.tenantId,
            generation: opened.tenant.generation,
            threshold: settings.semanticCache.threshold,
            suggestThreshold: settings.semanticCache.suggestThreshold,
          }),
        )
      : skipped;
  const searched = parallel ? search() : null;
  const speculating = parallel && askModel && rules !== null && rules.intent !== 'unknown' && settings.pipeline.speculate === true;
  // Speculating, the model's reading runs as regular activities, so the held answer can start beside it.
  const reader = speculating ? understandingBeside : understanding;
  const capture = () => (askModel ? settle('captureSlots', () => reader.captureSlots({ message: input.message, today, timeZone, previous: opened.previous })) : skipped);
  const detectFirst = () => (askModel ? settle('detectIntent', () => reader.detectIntent({ message: input.message, pass: 1 })) : skipped);
  const modelRead = parallel ? Promise.all([capture(), detectFirst()]) : null;
  // Retrieval needs only the question: it starts now when the rules read a policy question. So does the
  // SQL agent when the rules' route is final or speculated (a compiled query needs no embedding).
  const docs = parallel && rules?.wantsDocs ? { route: rules, result: fetchDocs(turn, rules, {}, deadlines.data) } : undefined;
  const data =
    parallel && rules?.wantsData && (!askModel || speculating)
      ? {
          route: rules,
          // A compiled query is a few ms (local); a model writing SQL, beside the model's reading, is a regular activity.
          result: (rules.slots.metric ? Promise.resolve<Similar>({}) : similarOf(searched!)).then((similar) => fetchData(turn, rules, similar, deadlines.data, speculating && !rules.slots.metric)),
        }
      : undefined;
  const early = { ...(docs ? { docs } : {}), ...(data ? { data } : {}) };

  const guard = await checkInput(turn);
  let settled: [Settled<GatheredContext>, Settled<Search>, [Settled<CaptureResult & { calls?: ModelCall[] }>, Settled<DetectResult & { calls?: ModelCall[] }>]];
  let speculation: Speculation | undefined;
  if (!parallel) {
    // One step after another (a benchmark's baseline): the guardrail first, and nothing else after a deny.
    if (!guard.allowed) return denied(turn, guard, []);
    const g = await settle('gatherContext', () => lookups.gatherContext({ tenantId: input.tenantId, sessionId: input.sessionId, userId: input.userId }));
    const c = await capture();
    const d = await detectFirst();
    settled = [g, await search(), [c, d]];
  } else {
    // Data and documents are not waited for here: the turn waits for them where it needs them.
    const running = Promise.all([gathered!, searched!, modelRead!]);
    // The semantic cache decides on the rules' slot signature the moment the search is back, so a hit
    // does not wait for the capture and detect model calls (which it then stops).
    if (guard.allowed && opened.rules && settings.semanticCache.enabled && settings.semanticCache.decideEarly && !UNCACHEABLE_INTENTS.includes(opened.rules.intent)) {
      const found = await searched!;
      const hit = found.ok ? decideSemantic(found.value.candidates, opened.rules.signature, settings.semanticCache.threshold).hit : null;
      if (hit) {
        turn.step('checkInputGuardrails', 'completed');
        turn.step('searchSemanticCache', 'completed', { reason: 'hit on the rules’ slot signature' });
        return { blocked: null, context: NO_CONTEXT, semantic: null, early: { hit, rest: Promise.all([running, docs?.result, data?.result]) } };
      }
    }
    // The model reads the question: start the rules' route now, its answer held until the model agrees.
    if (guard.allowed && speculating) {
      speculation = speculate(turn, rules!, {
        context: gathered!.then((g) => (g.ok ? g.value : NO_CONTEXT)),
        data: data?.result ?? null,
        docs: docs?.result ?? null,
        deadlines,
      });
    }
    // After a deny the work ends at once (aborted). When the check itself failed and the tenant fails
    // closed, nothing aborted it: the turn waits for it (bounded by the understanding timeouts).
    const [g, r, m] = await running;
    settled = [g, r, m];
  }
  if (!guard.allowed) return denied(turn, guard, [docs?.result, data?.result]);
  turn.step('checkInputGuardrails', 'completed');

  const [gatheredStep, searchStep, [captureStep, detectStep]] = settled;
  const context = gatheredStep.ok ? gatheredStep.value : NO_CONTEXT;
  if (!gatheredStep.ok) turn.fallback('gatherContext');
  for (const part of context.fallbacks) turn.fallback(`gatherContext:${part}`);
  turn.step('gatherContext', gatheredStep.ok ? 'completed' : 'failed');
  const semantic = searchStep.ok ? searchStep.value : null;
  if (settings.semanticCache.enabled) {
    if (!semantic) turn.fallback('searchSemanticCache');
    turn.step('searchSemanticCache', semantic ? 'completed' : 'failed');
  }

  if (!askModel) {
    // The rules are sure (calibrated: README, "Understanding"): their reading stands, no model call.
    const r = opened.rules!;
    const reason = `rules confident (${r.confidence})`;
    turn.step('captureSlots', 'skipped', { reason });
    turn.step('detectIntent', 'skipped', { reason });
    turn.understanding = {
      intent: r.intent,
      confidence: r.confidence!,
      complexity: r.complexity!,
      slots: r.slots!,
      language: opened.language,
      reconciled: false,
      reconcileReasons: [],
      source: { capture: 'rules', detect: 'rules' },
    };
    return { blocked: null, context, semantic, ...early };
  }

  const captured: CaptureResult | null = captureStep.ok ? captureStep.value : null;
  const detected: DetectResult | null = detectStep.ok ? detectStep.value : null;
  turn.addCalls(captureStep.ok ? captureStep.value.calls : undefined);
  turn.addCalls(detectStep.ok ? detectStep.value.calls : undefined);
  if (!captured) turn.fallback('captureSlots');
  if (!detected) turn.fallback('detectIntent');
  // Capture and detect fall back to rules inside their activities; that still counts as a fallback.
  if (captured?.source === 'rules') turn.fallback('captureSlots:rules');
  if (detected?.source === 'rules') turn.fallback('detectIntent:rules');
  let detect: DetectResult = detected ?? { intent: 'unknown', confidence: 0, complexity: 'simple', source: 'rules' };
  const slots = captured?.slots ?? {};
  turn.step('captureSlots', captured ? 'completed' : 'failed');
  turn.step('detectIntent', detected ? 'completed' : 'failed');

  // Pass 2 differs from pass 1 only by the captured slots: without any, it cannot change the route.
  const reasons: ReconcileReason[] = captured ? reconcileReasons(detect, captured, settings.understanding) : [];
  const canChange = slotKeys(slots).length > 0;
  if (reasons.length > 0 && !canChange) turn.step('reconcileIntent', 'skipped', { reason: `${reasons.join(', ')}; no slots to reconcile with` });
  const reconciling = reasons.length > 0 && canChange;
  if (reconciling) {
    // The decision and its reasons are in the history as this activity's input, and in `done.understanding`.
    log.info('reconciling intent with the captured slots', { reasons });
    const second = await turn.orFallback('reconcileIntent', () => reader.detectIntent({ message: input.message, slots, pass: 2, reasons }), null as Awaited<ReturnType<typeof understanding.detectIntent>> | null);
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
    reconciled: reconciling,
    reconcileReasons: reconciling ? reasons : [],
    source: { capture: captured?.source ?? 'none', detect: detected ? detect.source : 'none' },
  };
  return { blocked: null, context, semantic, ...early, ...(speculation ? { speculation } : {}) };
}

/** The question's embedding from the search, for the SQL agent's examples and retrieval. */
function similarOf(searched: Promise<Settled<Search>>): Promise<Similar> {
  return searched.then((r): Similar => (r.ok ? { vector: r.value.vector, model: r.value.model } : {}));
}

/** A denied turn: the work started on the rules' route ends before the turn does (nothing left running). */
async function denied(turn: Turn, guard: InputGuardrailResult, started: (Promise<unknown> | undefined)[]): Promise<Understood> {
  await Promise.all(started);
  turn.step('checkInputGuardrails', 'failed', { reason: guard.reasons.join(', ') });
  return { blocked: guard, context: NO_CONTEXT, semantic: null };
}

/** The input guardrail; when the check itself fails, the tenant's setting decides: closed blocks, open lets through. */
export async function checkInput(turn: Turn): Promise<InputGuardrailResult> {
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

// The state one turn carries through its phases, and its one way out (`finish`): stamp the result,
// record search attributes, deliver the terminal event, then persist and write the caches.
import { isCancellation, log, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { CachedAnswer } from '../../activities/caches/exact-key.ts';
import type { GenerateAnswerOutput } from '../../activities/generate-answer/activities.ts';
import type { InputGuardrailResult, OutputGuardrailResult } from '../../activities/guardrails/activities.ts';
import type { OpenTurnOutput } from '../../activities/open-turn/activities.ts';
import { BLOCKED_ANSWER, cannedAnswer } from '../shared/answers.ts';
import { cachedTurnResult } from '../shared/cached-result.ts';
import { answeredTurnResult } from '../shared/answered-result.ts';
import { type ChatTurnInput, type ModelCall, type TurnEvent, type TurnResult, turnStreamKey } from '../shared/contract.ts';
import { draftTurnResult } from '../shared/draft-result.ts';
import { FAILURE_TYPES } from '../shared/failures.ts';
import { turnResultQuery } from '../shared/messages.ts';
import { CacheOutcomeKey, FallbackUsedKey, IntentKey } from '../shared/search-attributes.ts';
import type { IntentOrUnknown, Understanding } from '../shared/understanding.ts';
import { failureCalls, failureType } from './failure.ts';
import { durable, lookups, turnIo } from './proxies.ts';

/** Lifetime of cached figures for a period that includes today (they change as orders come in). */
export const LIVE_DATA_TTL_SECONDS = 300;

/** How a turn ended; `finish` turns it into the result. */
export type Outcome =
  /** `stopWork`: stop the turn's model calls still running (a hit decided before they returned). */
  | { kind: 'cached'; cache: 'exact' | 'semantic'; cached: CachedAnswer; similarity?: number; stopWork?: boolean }
  /** `delivered`: the answer activity already published this result as the turn's `done`. */
  | { kind: 'answered'; generated: GenerateAnswerOutput; output: OutputGuardrailResult; delivered?: TurnResult }
  | { kind: 'blocked'; guard: InputGuardrailResult }
  | { kind: 'canned' }
  | { kind: 'cancelled' }
  /** Answered before the workflow ran (the API served an exact hit): recorded, not delivered again. */
  | { kind: 'delivered'; result: TurnResult };

/** What `finish` needs to write the semantic cache after delivery. */
export interface SemanticWrite {
  vector: number[];
  model: string;
  intent: IntentOrUnknown;
  signature: string;
}

/** Everything one turn accumulates; phases read and add to it. */
export class Turn {
  readonly workflowId = workflowInfo().workflowId;
  readonly stream = turnStreamKey(this.workflowId);
  readonly steps: Record<string, number> = {};
  readonly fallbacks: string[] = [];
  /** Step events not yet on the stream; the next activity that writes the stream publishes them first. */
  progress: TurnEvent[] = [];
  opened: OpenTurnOutput | null = null;
  understanding: Understanding = {
    intent: 'unknown',
    confidence: 0,
    complexity: 'simple',
    slots: {},
    language: 'und',
    reconciled: false,
    reconcileReasons: [],
    source: { capture: 'none', detect: 'none' },
  };
  /** The message after input redaction: what the model, the store and the caches see. */
  redactedMessage: string;
  /** Redactions the input guardrail made (counted in `done.guardrail`). */
  guardRedactions = 0;
  /** The input guardrail failed and the tenant's setting let the turn through. */
  failOpen = false;
  suggestion?: { question: string; similarity: number };
  /** The analytics answer's chart, when one was rendered. */
  chart?: { id: string; svgUrl: string; pngUrl: string };
  semanticWrite: SemanticWrite | null = null;
  /** Every model call of the turn (understanding, SQL, the answer's race): usage and cost come from these. */
  readonly calls: ModelCall[] = [];
  /** What failed, for the canned answer ("the answer models are unavailable (anthropic answered 529)"). */
  cannedReason?: string;
  private delivered: TurnResult | null = null;

  constructor(readonly input: ChatTurnInput) {
    this.redactedMessage = input.message;
    setHandler(turnResultQuery, () => this.delivered);
  }

  /** Runs a step and records its duration. */
  async timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      this.steps[name] = Date.now() - t0;
    }
  }

  /**
   * Runs a step; if it fails, records the fallback (`<step>:deadline` when its phase ran out of time), keeps
   * the model calls it reported, and yields `fallback`. Cancellation always propagates.
   */
  async orFallback<T>(name: string, fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await this.timed(name, fn);
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('step failed, using its fallback value', { step: name, error: String(err) });
      this.addCalls(failureCalls(err));
      const type = failureType(err);
      this.fallback(type === FAILURE_TYPES.phaseDeadline ? `${name}:deadline` : type === FAILURE_TYPES.tenantDataUnavailable ? `${name}:unavailable` : name);
      return fallback;
    }
  }

  /** Adds the model calls a step reported. */
  addCalls(calls: readonly ModelCall[] | undefined): void {
    if (calls) this.calls.push(...calls);
  }

  /** Records a fallback once (`done.fallbacks`). */
  fallback(name: string): void {
    if (!this.fallbacks.includes(name)) this.fallbacks.push(name);
  }

  /** Queues a `step` event for the stream. */
  step(name: string, status: 'completed' | 'failed' | 'skipped', extra: { reason?: string } = {}): void {
    this.progress.push({ type: 'step', data: { name, status, ms: this.steps[name], ...extra } });
  }

  /** Takes the queued step events (the caller's activity publishes them). */
  takeProgress(): TurnEvent[] {
    const events = this.progress;
    this.progress = [];
    return events;
  }

  /** The one way out: result, search attributes, delivery, then persistence and caches. */
  async finish(outcome: Outcome): Promise<TurnResult> {
    const deliveredAlready = outcome.kind === 'delivered' || (outcome.kind === 'answered' && outcome.delivered !== undefined);
    const result = outcome.kind === 'answered' && outcome.delivered ? outcome.delivered : this.resultFor(outcome);
    const cacheOutcome = outcome.kind === 'cached' ? outcome.cache : outcome.kind === 'delivered' ? result.cache : outcome.kind === 'answered' ? 'none' : outcome.kind === 'canned' ? 'fallback' : outcome.kind;
    upsertSearchAttributes([
      { key: CacheOutcomeKey, value: cacheOutcome },
      { key: IntentKey, value: result.intent },
      { key: FallbackUsedKey, value: result.fallbacks.length > 0 },
    ]);
    if (!deliveredAlready) {
      try {
        await turnIo.finishTurn({
          stream: this.stream,
          result,
          streamAnswer: outcome.kind !== 'answered',
          progress: this.takeProgress(),
          tenantId: this.input.tenantId,
          ...(outcome.kind === 'cached' && outcome.stopWork ? { stopWork: true } : {}),
        });
      } catch (err) {
        if (isCancellation(err)) throw err;
        // The stream is unreachable: the result is still the workflow's, and GET /v1/turns/:id serves it.
        log.error('could not publish the terminal event', { error: String(err) });
      }
    }
    this.delivered = result;

    // After delivery: the user never waits for bookkeeping. Persisting retries until it succeeds.
    const persist = durable.persistTurn({
      tenantId: this.input.tenantId,
      sessionId: this.input.sessionId,
      userId: this.input.userId,
      redactedMessage: this.redactedMessage,
      result,
    });
    const caches = this.cacheWrite(outcome, result);
    await Promise.all([this.timed('persistTurn', () => persist), caches]);
    return result;
  }

  private async cacheWrite(outcome: Outcome, result: TurnResult): Promise<void> {
    // Only a clean, first-choice answer is cached: no fallback of any kind, no policy replacement.
    if (outcome.kind !== 'answered' || outcome.output.violations.length > 0 || result.fallbacks.length > 0) return;
    const opened = this.opened;
    if (!opened) return;
    const settings = opened.tenant.settings;
    const semantic = this.semanticWrite;
    // Figures of a period that includes today still change as orders come in: keep them only briefly.
    const t = result.slots.timeRange;
    const live = result.intent === 'analytics' && (!t || t.end > opened.tenant.today);
    const cap = (ttl: number) => (live ? Math.min(ttl, LIVE_DATA_TTL_SECONDS) : ttl);
    await this.orFallback(
      'writeCaches',
      () =>
        lookups.writeCaches({
          tenantId: this.input.tenantId,
          result,
          exact: opened.exactKey ? { key: opened.exactKey, ttlSeconds: cap(settings.exactCache.ttlSeconds) } : undefined,
          semantic:
            semantic && settings.semanticCache.enabled
              ? {
                  generation: opened.tenant.generation,
                  question: this.redactedMessage,
                  ...semantic,
                  ttlSeconds: cap(result.intent === 'analytics' ? settings.semanticCache.analyticsTtlSeconds : settings.semanticCache.ttlSeconds),
                }
              : undefined,
        }),
      undefined,
    );
  }

  /** The turn's result so far, before its answer: what the answer activity completes when it delivers the turn. */
  draft(): TurnResult {
    return draftTurnResult({
      turnId: this.input.turnId,
      workflowId: this.workflowId,
      understanding: this.understanding,
      calls: this.calls,
      steps: this.steps,
      fallbacks: this.fallbacks,
      ...(this.suggestion ? { suggestion: this.suggestion.question } : {}),
    });
  }

  private resultFor(outcome: Outcome): TurnResult {
    const base = this.draft();
    const totalMs = Math.max(0, Date.now() - this.input.receivedAt);
    let result: TurnResult;
    switch (outcome.kind) {
      case 'cached':
        result = cachedTurnResult(base, outcome.cached, outcome.cache, totalMs, outcome.similarity);
        break;
      case 'delivered':
        result = outcome.result;
        break;
      case 'answered':
        // The answer's own calls are in `generated` (generate() keeps them out of the turn's until now).
        result = answeredTurnResult(
          base,
          outcome.generated,
          outcome.output,
          { inputRedactions: this.guardRedactions, failOpen: this.failOpen, ...(this.chart ? { chart: this.chart } : {}) },
          { totalMs, steps: this.steps },
        );
        break;
      case 'blocked':
        result = {
          ...base,
          answer: BLOCKED_ANSWER,
          timings: { totalMs, ttftMs: null, steps: this.steps },
          guardrail: { blocked: true, reasons: outcome.guard.reasons, redactions: outcome.guard.redactions },
          error: { code: 'content_policy', message: BLOCKED_ANSWER },
        };
        break;
      case 'canned':
        // No token was streamed before the canned answer: no first-token time to report.
        result = { ...base, answer: cannedAnswer(this.cannedReason), timings: { totalMs, ttftMs: null, steps: this.steps } };
        break;
      case 'cancelled':
        result = { ...base, answer: '', timings: { totalMs, ttftMs: null, steps: this.steps }, error: { code: 'cancelled', message: 'The turn was cancelled' } };
        break;
    }
    if (outcome.kind !== 'delivered') result.timings.steps = { ...this.steps };
    return result;
  }
}

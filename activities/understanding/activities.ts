import { isDeepStrictEqual } from 'node:util';
import { Context } from '@temporalio/activity';
import { whileBeating } from '../heartbeat.ts';
import { redactPii } from '../guardrails/rules.ts';
import { throwIfTurnAborted, turnWorkSignal } from '../turn-aborts.ts';
import { createPriceTable, type PriceTable } from '../../infra/llm/pricing.ts';
import type { ChatProvider, CompleteResult, ProviderName } from '../../infra/llm/provider.ts';
import { ZERO_USAGE, type ModelCall } from '../../workflows/shared/contract.ts';
import { priceCall } from '../model-calls.ts';
import type { CaptureResult, DetectResult, ReconcileReason, SessionContext, Slots } from '../../workflows/shared/understanding.ts';
import { buildCapturePrompt, buildDetectPrompt, PROMPT_VERSION, type UnderstandingPrompt } from './prompts.ts';
import { captureByRules, detectByRules, isFollowUp } from './rules.ts';
import { parseCaptureOutput, parseDetectOutput, type ParsedCapture } from './schemas.ts';

/** All the understanding activities need of a provider (a full `ChatProvider` fits). */
export type UnderstandingProvider = Pick<ChatProvider, 'complete'> & Partial<Pick<ChatProvider, 'models' | 'priceAs'>>;

/** What the understanding activities close over. */
export interface UnderstandingDeps {
  providers: Partial<Record<ProviderName, UnderstandingProvider>>;
  /** Prices of the calls (`calls` in the results); list prices when absent. */
  prices?: PriceTable;
  settings: {
    /** Budget of one model call; past it the rules answer instead (the turn must not wait on understanding). */
    understandingTimeoutMs: number;
    understandingProvider: ProviderName;
  };
}

/** Input of `captureSlots`. */
export interface CaptureSlotsInput {
  message: string;
  /** YYYY-MM-DD in the tenant's time zone: relative ranges ("last week") resolve against it. */
  today: string;
  timeZone: string;
  previous: SessionContext | null;
}

/** Input of `detectIntent`; pass 2 runs with the captured slots, for the reasons given. */
export interface DetectIntentInput {
  message: string;
  slots?: Slots;
  pass: 1 | 2;
  reasons?: ReconcileReason[];
}

/** Why a result came from the rules: `timeout`, `provider-error: 529`, `invalid-output`, `provider-not-configured: openai`. */
export type WithFallback<T> = T & { fallbackReason?: string; calls?: ModelCall[] };

// Replies are one small JSON object; a cap keeps a rambling model from eating the time budget.
const MAX_TOKENS = 400;

type Asked<T> = ({ ok: true; value: T } | { ok: false; reason: string }) & { calls?: ModelCall[] };

/**
 * Inherited keys that match the slots: only keys the previous turn had; an inherited key the model
 * forgot to copy is copied. A follow-up reply without `inherited` gets it computed from equal values.
 */
function reconcileInherited(parsed: ParsedCapture, message: string, previous: SessionContext | null): { slots: Slots; inherited: string[] } {
  if (!previous) return { slots: parsed.slots, inherited: [] };
  const prev = previous.slots as Record<string, unknown>;
  const slots = { ...parsed.slots } as Record<string, unknown>;
  if (!parsed.inheritedGiven) {
    const inherited = isFollowUp(message) ? Object.keys(prev).filter((k) => slots[k] !== undefined && isDeepStrictEqual(slots[k], prev[k])) : [];
    return { slots: slots as Slots, inherited };
  }
  const inherited = parsed.inherited.filter((k) => prev[k] !== undefined);
  for (const k of inherited) slots[k] ??= prev[k];
  return { slots: slots as Slots, inherited };
}

/** Slot capture and intent detection: the configured provider's fast model, the rules when it fails or is late. */
export function createUnderstandingActivities(deps: UnderstandingDeps) {
  const prices = deps.prices ?? createPriceTable();
  /** One `complete()` call parsed by `parse`; every failure but the activity's own cancellation becomes a reason. */
  async function ask<T>(step: string, prompt: UnderstandingPrompt, parse: (text: string) => T | null): Promise<Asked<T>> {
    const name = deps.settings.understandingProvider;
    const provider = deps.providers[name];
    if (!provider) return { ok: false, reason: `provider-not-configured: ${name}` };
    const t0 = performance.now();
    const call = (outcome: ModelCall['outcome'], r?: CompleteResult, status?: number | null): ModelCall[] => [
      priceCall(prices, provider, {
        step,
        provider: name,
        model: provider.models?.fast ?? r?.model ?? 'unknown',
        outcome,
        ...(status != null ? { status } : {}),
        startMs: 0,
        ttftMs: null,
        ms: Math.round(performance.now() - t0),
        // A failed or abandoned call's tokens are not reported back; it is counted, at zero.
        usage: r?.usage ?? { ...ZERO_USAGE },
        ...(r ? { reportedModel: r.model } : {}),
      }),
    ];
    const timeout = AbortSignal.timeout(deps.settings.understandingTimeoutMs);
    // Aborted when the activity is cancelled or the input guardrail denies the turn meanwhile.
    const work = turnWorkSignal();
    let result: CompleteResult;
    try {
      result = await provider.complete({
        ...prompt,
        maxTokens: MAX_TOKENS,
        temperature: 0,
        json: true,
        signal: AbortSignal.any([work.signal, timeout]),
      });
    } catch (err) {
      throwIfTurnAborted(work.signal);
      throwIfCancelled(err);
      if (timeout.aborted) return { ok: false, reason: 'timeout', calls: call('timeout') };
      // Told apart by name and shape, not instanceof: errors may have crossed a realm or a serializer.
      const e = err as { name?: string; status?: number | null; message?: string };
      if (e.name === 'ProviderError') return { ok: false, reason: `provider-error: ${e.status ?? e.message ?? 'unknown'}`, calls: call('failed', undefined, e.status) };
      return { ok: false, reason: `provider-error: ${e.message ?? String(err)}`, calls: call('failed') };
    } finally {
      work.release();
    }
    const value = parse(result.text);
    const calls = call('ok', result);
    return value === null ? { ok: false, reason: 'invalid-output', calls } : { ok: true, value, calls };
  }

  /** Cancellation must reach Temporal as such, never turn into a rules answer. */
  function throwIfCancelled(err?: unknown): void {
    const signal = Context.current().cancellationSignal;
    if (!signal.aborted) return;
    // An AbortError from the SDK call is reported as a cancellation; anything else (e.g. a 529 racing the
    // cancel) is replaced by the signal's own CancelledFailure so it is not reported as a failure.
    if ((err as { name?: string } | undefined)?.name === 'AbortError') throw err;
    throw signal.reason;
  }

  function logFallback(activity: string, reason: string): void {
    throwIfCancelled();
    Context.current().log.warn('understanding fell back to rules', { activity, reason, provider: deps.settings.understandingProvider, promptVersion: PROMPT_VERSION });
  }

  return {
    /** Captures the message's slots (and those a follow-up inherits); the rules answer when the model cannot. */
    async captureSlots(input: CaptureSlotsInput): Promise<WithFallback<CaptureResult>> {
      // The model sees the message without PII (the input check that redacts it runs in parallel).
      const asked = await whileBeating(() => ask('captureSlots', buildCapturePrompt({ ...input, message: redactPii(input.message).text }), parseCaptureOutput));
      const calls = asked.calls ? { calls: asked.calls } : {};
      if (asked.ok) return { ...reconcileInherited(asked.value, input.message, input.previous), source: 'model', ...calls };
      logFallback('captureSlots', asked.reason);
      const rules = captureByRules(input.message, { today: input.today, previous: input.previous });
      return { ...rules, source: 'rules', fallbackReason: asked.reason, ...calls };
    },

    /** Detects intent and complexity; pass 2 shows the model the captured slots. The rules answer when the model cannot. */
    async detectIntent(input: DetectIntentInput): Promise<WithFallback<DetectResult>> {
      // Pass 1 runs in parallel with capture, so it has no slots even when the caller passes some.
      const slots = input.pass === 2 ? input.slots : undefined;
      const asked = await whileBeating(() => ask(input.pass === 2 ? 'reconcileIntent' : 'detectIntent', buildDetectPrompt({ message: redactPii(input.message).text, slots }), parseDetectOutput));
      const calls = asked.calls ? { calls: asked.calls } : {};
      if (asked.ok) return { ...asked.value, source: 'model', ...calls };
      logFallback('detectIntent', asked.reason);
      const rules = detectByRules(input.message, { slots });
      return { ...rules, source: 'rules', fallbackReason: asked.reason, ...calls };
    },
  };
}

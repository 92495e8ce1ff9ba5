// The caches' activities: embedding the question, the semantic lookup, and writing both caches after delivery.
import type { TurnEvent, TurnResult } from '../../workflows/shared/contract.ts';
import type { IntentOrUnknown, Slots } from '../../workflows/shared/understanding.ts';
import type { ActivityDeps } from '../deps.ts';
import { redactPii } from '../guardrails/rules.ts';
import { throwIfTurnAborted, turnWorkSignal } from '../turn-aborts.ts';
import { publishAll } from '../turn-events/activities.ts';
import { slotSignature } from '../understanding/rules.ts';
import { isCacheableAnswer, toCachedAnswer } from './exact-key.ts';
import { writeExact } from './exact-store.ts';
import { findSemantic, type SemanticMatch, storeSemantic } from './semantic-store.ts';

/** The cache activities. */
export function createCacheActivities(deps: Pick<ActivityDeps, 'kv' | 'appDb' | 'embedder' | 'events' | 'settings' | 'now'>) {
  return {
    /** Embeds the (redacted) question; runs beside capture and detect. Rounded so the vector stays small in history. */
    async embedQuestion(input: { text: string }): Promise<{ vector: number[]; model: string }> {
      // Aborted when cancelled, when the input guardrail denies the turn meanwhile, or after the timeout.
      const work = turnWorkSignal();
      let vector: number[] | undefined;
      try {
        [vector] = await deps.embedder.embed([redactPii(input.text).text], AbortSignal.any([work.signal, AbortSignal.timeout(deps.settings.embeddingTimeoutMs)]));
      } catch (err) {
        throwIfTurnAborted(work.signal);
        throw err;
      } finally {
        work.release();
      }
      if (!vector) throw new Error('the embedder returned no vector');
      return { vector: vector.map((x) => Math.round(x * 1e5) / 1e5), model: deps.embedder.model };
    },

    /** Nearest cached answers of the tenant: a hit needs similarity ≥ threshold and an equal slot signature. */
    async lookupSemanticCache(input: {
      stream: string;
      progress?: TurnEvent[];
      tenantId: string;
      generation: number;
      vector: number[];
      model: string;
      intent: IntentOrUnknown;
      slots: Slots;
      threshold: number;
      suggestThreshold: number;
    }): Promise<SemanticMatch> {
      const [, match] = await Promise.all([
        publishAll(deps.events, input.stream, input.progress),
        findSemantic(deps.appDb, {
          tenantId: input.tenantId,
          generation: input.generation,
          embedder: input.model,
          vector: input.vector,
          signature: slotSignature(input.intent, input.slots),
          threshold: input.threshold,
          suggestThreshold: input.suggestThreshold,
        }),
      ]);
      return match;
    },

    /** Writes a delivered answer to the exact and the semantic cache; an answer that says it could not answer is never cached. */
    async writeCaches(input: {
      tenantId: string;
      result: TurnResult;
      exact?: { key: string; ttlSeconds: number };
      semantic?: { generation: number; question: string; vector: number[]; model: string; intent: IntentOrUnknown; slots: Slots; ttlSeconds: number };
    }): Promise<{ exact: boolean; semantic: boolean }> {
      if (!isCacheableAnswer(input.result.answer) || input.result.error) return { exact: false, semantic: false };
      const value = toCachedAnswer(input.result, deps.now());
      const { exact, semantic } = input;
      await Promise.all([
        exact ? writeExact(deps.kv, exact.key, value, exact.ttlSeconds) : undefined,
        semantic
          ? storeSemantic(deps.appDb, {
              tenantId: input.tenantId,
              generation: semantic.generation,
              embedder: semantic.model,
              vector: semantic.vector,
              signature: slotSignature(semantic.intent, semantic.slots),
              intent: semantic.intent,
              question: semantic.question,
              answer: value,
              ttlSeconds: semantic.ttlSeconds,
            })
          : undefined,
      ]);
      return { exact: Boolean(exact), semantic: Boolean(semantic) };
    },
  };
}

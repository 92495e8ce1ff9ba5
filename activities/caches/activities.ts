// The caches' activities: embedding the question, the semantic lookup, and writing both caches after delivery.
import type { TurnResult } from '../../workflows/shared/contract.ts';
import type { IntentOrUnknown } from '../../workflows/shared/understanding.ts';
import type { ActivityDeps } from '../deps.ts';
import { throwIfTurnAborted, turnWorkSignal } from '../turn-aborts.ts';
import { isCacheableAnswer, toCachedAnswer } from './exact-key.ts';
import { writeExact } from './exact-store.ts';
import { embedQuestion, findSemantic, type SemanticCandidate, storeSemantic } from './semantic-store.ts';

/** The cache activities. */
export function createCacheActivities(deps: Pick<ActivityDeps, 'kv' | 'appDb' | 'embedder' | 'settings' | 'now'>) {
  return {
    /**
     * Embeds the (redacted) question and fetches the tenant's nearest cached questions, beside capture and
     * detect: the workflow then decides a hit by comparing slot signatures, with no round of its own.
     * The vector is rounded so it stays small in the history (it is needed again to write the cache).
     */
    async searchSemanticCache(input: {
      text: string;
      tenantId: string;
      generation: number;
      threshold: number;
      suggestThreshold: number;
    }): Promise<{ vector: number[]; model: string; candidates: SemanticCandidate[] }> {
      // Aborted when cancelled, when the input guardrail denies the turn meanwhile, or after the timeout.
      const work = turnWorkSignal();
      let vector: number[];
      try {
        vector = await embedQuestion(deps.embedder, input.text, AbortSignal.any([work.signal, AbortSignal.timeout(deps.settings.embeddingTimeoutMs)]));
      } catch (err) {
        throwIfTurnAborted(work.signal);
        throw err;
      } finally {
        work.release();
      }
      const candidates = await findSemantic(deps.appDb, {
        tenantId: input.tenantId,
        generation: input.generation,
        embedder: deps.embedder.model,
        vector,
        threshold: input.threshold,
        suggestThreshold: input.suggestThreshold,
      });
      return { vector, model: deps.embedder.model, candidates };
    },

    /** Writes a delivered answer to the exact and the semantic cache; an answer that says it could not answer is never cached. */
    async writeCaches(input: {
      tenantId: string;
      result: TurnResult;
      exact?: { key: string; ttlSeconds: number };
      semantic?: { generation: number; question: string; vector: number[]; model: string; intent: IntentOrUnknown; signature: string; ttlSeconds: number };
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
              signature: semantic.signature,
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

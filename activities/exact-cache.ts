import { createHash } from 'node:crypto';
import type { Complexity, TurnResult } from '../workflows/shared/contract.ts';
import type { ActivityDeps } from './deps.ts';

/** What the exact cache keeps for an answer (never a fallback answer). */
export interface CachedAnswer {
  answer: string;
  intent: string;
  complexity: Complexity;
  provider?: string;
  model?: string;
  cachedAt: number;
}

/** Case, spacing and trailing punctuation do not make a different question. */
export function normalizeQuestion(message: string): string {
  return message.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().replace(/[\s?.!]+$/, '');
}

/** Cache key: versioned, tenant-scoped, SHA-256 of the normalized question. */
export function exactCacheKey(tenantId: string, message: string): string {
  const digest = createHash('sha256').update(normalizeQuestion(message)).digest('hex');
  return `exact:v1:${tenantId}:${digest}`;
}

/** Exact-answer cache activities. */
export function createExactCacheActivities(deps: Pick<ActivityDeps, 'cache' | 'settings'>) {
  return {
    /** Looks the question up in the tenant's exact cache. */
    async lookupExactCache(input: { tenantId: string; message: string }): Promise<CachedAnswer | null> {
      const raw = await deps.cache.get(exactCacheKey(input.tenantId, input.message));
      if (!raw) return null;
      try {
        return JSON.parse(raw) as CachedAnswer;
      } catch {
        return null; // a corrupt entry is a miss, and the next good answer overwrites it
      }
    },

    /** Stores a delivered, non-fallback answer. */
    async writeExactCache(input: { tenantId: string; message: string; result: TurnResult }): Promise<void> {
      const { result } = input;
      const value: CachedAnswer = {
        answer: result.answer,
        intent: result.intent,
        complexity: result.complexity,
        provider: result.provider,
        model: result.model,
        cachedAt: Date.now(),
      };
      await deps.cache.set(exactCacheKey(input.tenantId, input.message), JSON.stringify(value), deps.settings.exactCacheTtlSeconds);
    },
  };
}

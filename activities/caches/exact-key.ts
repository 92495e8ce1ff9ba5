// The exact cache's key and what it stores. Pure: the API can compute the same key to answer a hit
// before any workflow runs.
import { createHash } from 'node:crypto';
import type { CachedAnswerFields } from '../../workflows/shared/cached-result.ts';
import type { TurnResult } from '../../workflows/shared/contract.ts';

/** What both caches keep of an answer (never a blocked, fallback or non-answer), and when. */
export interface CachedAnswer extends CachedAnswerFields {
  cachedAt: number;
}

/** Case, spacing, Unicode forms and trailing punctuation do not make a different question. */
export function normalizeQuestion(message: string): string {
  return message.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().replace(/[\s?.!]+$/, '');
}

/** Everything that changes an answer, besides the words: a different value here is a different key. */
export interface ExactKeyParts {
  tenantId: string;
  /** Bumped when the tenant's documents or schema change, or on demand: old entries are never read again. */
  generation: number;
  language: string;
  /** Version of the answer prompt: a new prompt never serves answers written for the old one. */
  promptVersion: string;
  /** Slot signature resolved on the tenant's clock, with a follow-up's inherited slots ("and last month?"). */
  signature: string;
  message: string;
}

/** `exact:v2:<tenant>:<generation>:<sha256 of the rest>`: tenant-scoped, so a prefix deletes a tenant's entries. */
export function exactCacheKey(p: ExactKeyParts): string {
  const digest = createHash('sha256')
    .update([p.language, p.promptVersion, p.signature, normalizeQuestion(p.message)].join('\u0000'))
    .digest('hex');
  return `${exactTenantPrefix(p.tenantId)}${p.generation}:${digest}`;
}

/** Prefix of every exact-cache key of a tenant. */
export function exactTenantPrefix(tenantId: string): string {
  return `exact:v2:${tenantId}:`;
}

// Answers that say they could not answer: caching them would repeat the failure for an hour.
const NON_ANSWER =
  /\b(I (don't|do not|can't|cannot) (have|give|find|access|answer)\b.{0,40}\b(information|numbers|data|that|right now)|not available to me|could not be retrieved|unable to (answer|retrieve|find)|try again (later|in a (moment|minute)))/i;

/** Whether an answer may be cached: it must actually answer. */
export function isCacheableAnswer(answer: string): boolean {
  return answer.trim().length > 0 && !NON_ANSWER.test(answer);
}

/** The cached form of a delivered result. */
export function toCachedAnswer(result: TurnResult, now: number): CachedAnswer {
  return {
    answer: result.answer,
    intent: result.intent,
    complexity: result.complexity,
    slots: result.slots,
    provider: result.provider,
    model: result.model,
    ...(result.sources?.length ? { sources: result.sources } : {}),
    ...(result.chart ? { chart: result.chart } : {}),
    cachedAt: now,
  };
}

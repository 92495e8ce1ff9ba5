import type { Complexity } from './understanding.ts';

/** How much a turn spends: retrieved chunks, answer length and model tier. */
export interface Effort {
  /** Knowledge chunks to retrieve (0 = skip retrieval). */
  topK: number;
  /** Answer length budget. */
  maxTokens: number;
  /** `fast` (cheap model) or `strong`. */
  tier: 'fast' | 'strong';
}

/**
 * Effort by complexity, as in the RAG write-up (top_k 0–15, max_tokens 500–6000): greetings skip
 * retrieval and get the fast tier; multi-part analyses get the strong tier and room to answer.
 */
export const EFFORT_BY_COMPLEXITY: Record<Complexity, Effort> = {
  trivial: { topK: 0, maxTokens: 500, tier: 'fast' },
  simple: { topK: 3, maxTokens: 1000, tier: 'fast' },
  moderate: { topK: 5, maxTokens: 2000, tier: 'fast' },
  complex: { topK: 10, maxTokens: 4000, tier: 'strong' },
  comprehensive: { topK: 15, maxTokens: 6000, tier: 'strong' },
};

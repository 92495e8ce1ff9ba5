import type { Complexity } from './contract.ts';

const GREETING = /^(hi|hello|hey|thanks|thank you|good (morning|afternoon|evening)|bye)\b[\s!.?]*$/i;

/** Query complexity from cheap heuristics: length, questions asked, conjunctions. Deterministic. */
export function estimateComplexity(message: string): Complexity {
  const text = message.trim();
  if (GREETING.test(text)) return 'trivial';
  const words = text.split(/\s+/).filter(Boolean).length;
  const questions = (text.match(/\?/g) ?? []).length;
  const joins = (text.match(/\b(and|versus|vs\.?|compare|compared|then|also)\b/gi) ?? []).length;
  const score = words / 12 + Math.max(0, questions - 1) + joins * 0.5;
  if (words <= 3) return 'trivial';
  if (score < 1) return 'simple';
  if (score < 2) return 'moderate';
  if (score < 3.5) return 'complex';
  return 'comprehensive';
}

/** Answer length budget by complexity. */
export const MAX_TOKENS_BY_COMPLEXITY: Record<Complexity, number> = {
  trivial: 200,
  simple: 500,
  moderate: 900,
  complex: 1500,
  comprehensive: 2500,
};

// The semantic cache's decision, made in the workflow from the candidates the search returned beside
// capture and detect: a hit needs the threshold AND the same slot signature, whatever the similarity.
import type { CachedAnswer } from '../../activities/caches/exact-key.ts';
import type { SemanticCandidate } from '../../activities/caches/semantic-store.ts';

/** A hit, else perhaps the closest cached question to suggest ("did you mean …?"). */
export function decideSemantic(
  candidates: SemanticCandidate[],
  signature: string,
  threshold: number,
): { hit: (CachedAnswer & { similarity: number }) | null; suggestion: { question: string; similarity: number } | null } {
  const hit = candidates.find((c) => c.similarity >= threshold && c.signature === signature && c.answer);
  if (hit?.answer) return { hit: { ...hit.answer, similarity: hit.similarity }, suggestion: null };
  const close = candidates[0];
  return { hit: null, suggestion: close ? { question: close.question, similarity: close.similarity } : null };
}

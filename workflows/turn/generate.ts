// Phase 4: the streamed answer, provider by provider: the primary with its retries, then one try of the
// next (the fallback branch). Racing providers replaces this loop in a later step.
import { isCancellation, log } from '@temporalio/workflow';
import type { GenerateAnswerInput, GenerateAnswerOutput } from '../../activities/generate-answer/activities.ts';
import type { Turn } from './context.ts';
import { llm, llmFallback } from './proxies.ts';

/** Order in which providers are tried; the first answers, the next is the fallback branch. */
export const PROVIDER_ORDER = ['anthropic', 'openai'] as const;

/** The generated answer, or null when every provider failed (the turn then ends with the canned answer). */
export async function generate(turn: Turn, request: Omit<GenerateAnswerInput, 'provider' | 'progress'>): Promise<GenerateAnswerOutput | null> {
  for (const [i, provider] of PROVIDER_ORDER.entries()) {
    const proxy = i === 0 ? llm : llmFallback;
    try {
      return await turn.timed('generateAnswer', () => proxy.generateAnswer({ ...request, provider, progress: turn.takeProgress() }));
    } catch (err) {
      if (isCancellation(err)) throw err;
      log.warn('generation failed', { provider, error: String(err) });
      turn.fallback(`generateAnswer:${provider}`);
    }
  }
  return null;
}

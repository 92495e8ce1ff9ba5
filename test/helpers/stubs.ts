// Small stand-ins for activities, to drive one branch of a turn on the real stack.
import type { GenerateAnswerOutput } from '../../activities/generate-answer/activities.ts';
import type { Activities } from '../../activities/index.ts';
import { ZERO_USAGE } from '../../workflows/shared/contract.ts';

/** A generateAnswer stand-in: a fixed answer, no tokens (the step under test is not generation). */
export function answering(answer: string): Activities['generateAnswer'] {
  return async (input) =>
    ({
      answer,
      provider: input.providers?.[0] ?? input.provider ?? 'anthropic',
      model: 'stub-model',
      usage: { ...ZERO_USAGE, outputTokens: 10 },
      costUsd: 0,
      ttftMs: 1,
      providerTtftMs: 1,
      providerMs: 1,
      redactions: 0,
      sources: [],
    }) satisfies GenerateAnswerOutput;
}

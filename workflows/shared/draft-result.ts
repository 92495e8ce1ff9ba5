// The turn's result before anything answered it: the one starting point of every result the workflow, the
// answer activity and the API (an exact hit it answers itself) build. Pure: no I/O.
import { callTotals, type ModelCall, type TurnResult } from './contract.ts';
import type { Understanding } from './understanding.ts';

/** What is known of a turn before its answer; every field but the ids has an empty default. */
export interface DraftFields {
  turnId: string;
  workflowId: string;
  understanding?: Understanding;
  /** The detected language when nothing else of the understanding is known (the API's exact hit). */
  language?: string;
  calls?: readonly ModelCall[];
  steps?: Record<string, number>;
  fallbacks?: readonly string[];
  suggestion?: string;
}

/** A result with no answer yet: unknown intent unless understood, no usage beyond `calls`, no first token. */
export function draftTurnResult(f: DraftFields): TurnResult {
  const u = f.understanding;
  const calls = [...(f.calls ?? [])];
  return {
    turnId: f.turnId,
    workflowId: f.workflowId,
    answer: '',
    cache: 'none',
    intent: u?.intent ?? 'unknown',
    complexity: u?.complexity ?? 'simple',
    slots: u?.slots ?? {},
    understanding: u
      ? { confidence: u.confidence, language: u.language, reconciled: u.reconciled, reconcileReasons: u.reconcileReasons, source: u.source }
      : { confidence: 0, language: f.language ?? 'und', reconciled: false, reconcileReasons: [], source: { capture: 'none', detect: 'none' } },
    ...callTotals(calls),
    calls,
    timings: { totalMs: 0, ttftMs: null, steps: { ...f.steps } },
    fallbacks: [...(f.fallbacks ?? [])],
    ...(f.suggestion ? { suggestion: f.suggestion } : {}),
  };
}

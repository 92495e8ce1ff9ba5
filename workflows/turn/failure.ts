// Reading an activity's failure in the workflow: its ApplicationFailure type (declared in
// shared/failures.ts) and the model calls it reports in its details (they cost tokens even when failing).
import { ApplicationFailure } from '@temporalio/workflow';
import type { ModelCall } from '../shared/contract.ts';

/** The ApplicationFailure in an error's cause chain (an activity failure wraps it), or null. */
export function applicationFailure(err: unknown): ApplicationFailure | null {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) if (e instanceof ApplicationFailure) return e;
  return null;
}

/** The failure's type (`ProviderUnavailable`, `AnswerDeadlineExceeded`, ...), or undefined. */
export function failureType(err: unknown): string | undefined {
  return applicationFailure(err)?.type ?? undefined;
}

/** The model calls a failed activity reported (`details[0].calls`), or none. */
export function failureCalls(err: unknown): ModelCall[] {
  const details = applicationFailure(err)?.details?.[0] as { calls?: ModelCall[] } | undefined;
  return Array.isArray(details?.calls) ? details.calls : [];
}

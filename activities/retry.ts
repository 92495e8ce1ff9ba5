import { ApplicationFailure } from '@temporalio/common';

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))], at least 50 ms. */
export function jitteredDelayMs(attempt: number, baseMs = 200, capMs = 5000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(50, Math.round(random() * ceiling));
}

/** A retryable failure whose next attempt waits a jittered delay (Temporal honours `nextRetryDelay`). */
export function retryableFailure(type: string, message: string, attempt: number, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ type, message, cause, nextRetryDelay: jitteredDelayMs(attempt) });
}

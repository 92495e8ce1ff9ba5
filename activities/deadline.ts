import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../workflows/shared/failures.ts';

/**
 * `work`, unless the phase's deadline (epoch ms) comes first: then a non-retryable `PhaseDeadlineExceeded`,
 * and the turn goes on with what the other steps of the phase produced. The work itself is left to end on
 * its own bounds (queries have statement timeouts); only its result is no longer waited for.
 */
export async function beforeDeadline<T>(work: Promise<T>, deadlineAt: number | undefined, what: string): Promise<T> {
  if (deadlineAt === undefined) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(ApplicationFailure.create({ type: FAILURE_TYPES.phaseDeadline, message: `${what} ran out of the phase's time`, nonRetryable: true })),
      Math.max(0, deadlineAt - Date.now()),
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

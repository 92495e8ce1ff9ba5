// Failure type names: activities throw ApplicationFailures of these types, workflows and retry policies
// tell failures apart by them (never by `instanceof` across the sandbox). Declared once, here.

/** `ApplicationFailure.type` values the turn's activities use. */
export const FAILURE_TYPES = {
  /** The provider is down, overloaded or rate-limited: retry with a jittered delay, then fall back. */
  providerUnavailable: 'ProviderUnavailable',
  /** The provider refused the request (400/401/403/404): retrying cannot help. */
  providerRejected: 'ProviderRejected',
  /** No such provider in this deployment. */
  providerNotConfigured: 'ProviderNotConfigured',
  /** The input guardrail denied the turn while this work was running: it stopped, nothing to retry. */
  turnWorkAborted: 'TurnWorkAborted',
  /** No answer provider produced a first token before the turn's deadline: go to the simplified flow or the canned answer. */
  answerDeadline: 'AnswerDeadlineExceeded',
  /** A phase's budget (data and documents) ran out: the turn goes on with what is done. */
  phaseDeadline: 'PhaseDeadlineExceeded',
  /** The SQL agent used all its attempts (rejected or failing queries): answer that the data could not be retrieved. */
  sqlFailed: 'SqlFailed',
  /** The tenant's analytics database cannot be reached: no query can help now; the turn answers that the data is unavailable. */
  tenantDataUnavailable: 'TenantDataUnavailable',
  /** A speculative answer the workflow discarded (the model read the question differently): the turn answers anew. */
  speculationDiscarded: 'SpeculationDiscarded',
  /** A later attempt claimed the turn's stream (this one was given up for dead): it finishes the answer. */
  answerTakenOver: 'AnswerTakenOver',
} as const;

/** Failures no retry policy should retry. */
export const NON_RETRYABLE_FAILURES: string[] = [FAILURE_TYPES.providerRejected, FAILURE_TYPES.providerNotConfigured, FAILURE_TYPES.turnWorkAborted, FAILURE_TYPES.answerDeadline, FAILURE_TYPES.phaseDeadline, FAILURE_TYPES.speculationDiscarded, FAILURE_TYPES.tenantDataUnavailable];

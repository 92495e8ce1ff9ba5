// One proxy per option set, each typed with only the activities it may call: a new activity cannot be
// called without someone choosing its timeout and retry policy here.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { ANSWER_HEARTBEAT_TIMEOUT } from '../shared/contract.ts';
import { NON_RETRYABLE_FAILURES } from '../shared/failures.ts';

/** Stream writes and the first lookups (exact cache, tenant settings): in-process and fast; a failure falls back, never fails the turn. */
export const turnIo = proxyLocalActivities<Pick<Activities, 'openTurn' | 'emitTurnEvents' | 'finishTurn' | 'decideSpeculation'>>({
  startToCloseTimeout: '2 seconds',
  retry: { maximumAttempts: 3, initialInterval: '50 ms', backoffCoefficient: 2, maximumInterval: '500 ms' },
});

/** Guardrail checks: pure rules, one quick retry; what a failure means (fail-open or closed) is the tenant's setting. */
export const checks = proxyLocalActivities<Pick<Activities, 'checkInputGuardrails' | 'checkOutputGuardrails'>>({
  startToCloseTimeout: '2 seconds',
  retry: { maximumAttempts: 2, initialInterval: '50 ms' },
});

/** App-store reads and the cache writes: each gathered part has its own timeout inside. */
export const lookups = proxyLocalActivities<Pick<Activities, 'gatherContext' | 'writeCaches'>>({
  startToCloseTimeout: '3 seconds',
  retry: { maximumAttempts: 2, initialInterval: '100 ms', backoffCoefficient: 2, maximumInterval: '1 second' },
});

/**
 * Fast-tier model calls that shape the turn (capture, detect, the question's embedding and semantic
 * search). They bound their calls themselves (capture and detect fall back to rules inside), so one
 * attempt is enough: a retry would only add latency; a failed search is a cache miss.
 */
export const understanding = proxyLocalActivities<Pick<Activities, 'captureSlots' | 'detectIntent' | 'searchSemanticCache'>>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * The same understanding calls as regular activities, for a turn that speculates: local activities keep
 * the workflow task open until they end, so a held answer scheduled meanwhile would only start once the
 * model's reading is back. As regular activities (dispatched eagerly to this worker) they let it start at
 * once. They heartbeat while their model call runs, so a dead worker's call ends after the heartbeat
 * timeout (the turn goes on with the rules' reading) instead of after 5 s.
 */
export const understandingBeside = proxyActivities<Pick<Activities, 'captureSlots' | 'detectIntent'>>({
  startToCloseTimeout: '5 seconds',
  heartbeatTimeout: ANSWER_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 1 },
});

/**
 * Knowledge retrieval: usually a cache read or two queries; the first turn after a document change also
 * re-embeds that document, hence the longer bound. A failure answers without documents (a fallback).
 */
export const retrieval = proxyLocalActivities<Pick<Activities, 'retrieveKnowledge'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 2, initialInterval: '200 ms' },
});

/**
 * The SQL agent: a few fast-tier calls and read-only queries, bounded by the statement timeout. It
 * corrects itself inside (up to SQL_MAX_ATTEMPTS), so one attempt here; a failure answers without data.
 */
export const sqlAgent = proxyLocalActivities<Pick<Activities, 'runSqlAgent'>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/** The SQL agent as a regular activity, for a turn that speculates (see `understandingBeside`). */
export const sqlAgentBeside = proxyActivities<Pick<Activities, 'runSqlAgent'>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/**
 * The answer: a regular activity, so a crashed worker's call is retried on another. It heartbeats on a
 * timer (every 400 ms), so a 1.5 s heartbeat timeout notices a dead worker quickly without taking over
 * from a live one whose provider is slow to its first token. A provider failure retries after the
 * jittered delay the activity asks for (at least the providers' Retry-After); the short initial
 * interval is what a dead worker's attempt waits before another worker takes it.
 */
export const llm = proxyActivities<Pick<Activities, 'generateAnswer'>>({
  startToCloseTimeout: '60 seconds',
  heartbeatTimeout: ANSWER_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 3, initialInterval: '100 ms', backoffCoefficient: 2, maximumInterval: '5 seconds', nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

/** The fallback branches (a tier downgrade, the simplified flow; before racing: the second provider) get one try. */
export const llmFallback = proxyActivities<Pick<Activities, 'generateAnswer'>>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: ANSWER_HEARTBEAT_TIMEOUT,
  retry: { maximumAttempts: 1, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

/**
 * Persisting the turn must not be lost: the answer is already delivered, so keep retrying (backoff up to
 * 30 s, for up to an hour) while the store is down; the workflow stays open until the turn is stored.
 */
export const durable = proxyLocalActivities<Pick<Activities, 'persistTurn'>>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '200 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

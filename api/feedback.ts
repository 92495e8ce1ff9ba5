// POST /v1/turns/:turnId/feedback: a user's thumbs up or down on an answer, with an optional comment and an
// optional corrected SQL. The route finds the tenant's stored turn; activities/feedback/ does the rest (the
// rating, the tenant's example store, checking a corrected SQL).
import { setTimeout as sleep } from 'node:timers/promises';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { FeedbackUnavailableError, giveFeedback, type FeedbackDeps } from '../activities/feedback/feedback.ts';
import { loadFeedbackTurn, type FeedbackTurn } from '../activities/feedback/store.ts';
import { turnWorkflowId } from '../workflows/shared/contract.ts';
import { tenantOf } from './auth.ts';
import { ApiError } from './errors.ts';
import { feedbackBody, TURN_ID_PATTERN } from './schemas.ts';
import { workflowStatus } from './turns.ts';

/** What the feedback route needs. */
export interface FeedbackRoutesDeps extends FeedbackDeps {
  temporal: Pick<Client, 'workflow'>;
  /** Counts each post (`turnflow_feedback_total`). */
  metrics?: { recordFeedback?(tenantId: string, rating: string, example: string): void };
  /** How long a post waits for a turn whose answer is out but not yet stored (tests lower it). */
  storeWaitMs?: number;
}

/**
 * A turn's `done` reaches the client a few milliseconds before the turn is stored (persisting comes after the
 * answer): feedback sent the moment `done` arrives waits this long for it.
 */
export const FEEDBACK_STORE_WAIT_MS = 2000;
const POLL_MS = 50;

/** POST /v1/turns/:turnId/feedback. */
export function feedbackRoutes(deps: FeedbackRoutesDeps): Router {
  const router = Router();

  /** The tenant's stored turn; a 404 for no such turn (another tenant's included), a 409 while it runs. */
  async function finishedTurn(tenantId: string, turnId: string): Promise<FeedbackTurn> {
    const stored = await loadFeedbackTurn(deps.appDb, tenantId, turnId);
    if (stored) return stored;
    const status = await workflowStatus(deps, turnWorkflowId(tenantId, turnId));
    if (status === null) throw new ApiError(404, 'turn_not_found', 'No such turn');
    if (status === 'RUNNING') {
      const until = Date.now() + (deps.storeWaitMs ?? FEEDBACK_STORE_WAIT_MS);
      while (Date.now() < until) {
        await sleep(POLL_MS);
        const turn = await loadFeedbackTurn(deps.appDb, tenantId, turnId);
        if (turn) return turn;
      }
      throw new ApiError(409, 'turn_running', 'The turn is still running: feedback is given on a finished answer', { turnId }, { 'Retry-After': '1' });
    }
    // Failed, terminated or timed out: the turn was never stored, so there is no answer to rate.
    throw new ApiError(409, 'turn_not_answered', `The turn ended without an answer (${status.toLowerCase().replace(/_/g, ' ')}): there is nothing to rate`, { turnId });
  }

  router.post('/v1/turns/:turnId/feedback', async (req, res) => {
    const tenantId = tenantOf(req);
    if (!req.is('application/json')) throw new ApiError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
    const turnId = String(req.params.turnId ?? '');
    if (!TURN_ID_PATTERN.test(turnId)) throw new ApiError(404, 'turn_not_found', 'No such turn');
    const body = feedbackBody.parse(req.body ?? {});
    const turn = await finishedTurn(tenantId, turnId);
    const outcome = await giveFeedback(deps, tenantId, turn, body).catch((err: unknown) => {
      if (err instanceof FeedbackUnavailableError) throw new ApiError(503, 'dependency_unavailable', err.message, undefined, { 'Retry-After': '2' });
      throw err;
    });
    if (!outcome.ok) {
      // Nothing was stored: the user may fix the query and post again.
      throw new ApiError(422, 'sql_rejected', `The corrected SQL was refused: ${outcome.reason}`, { turnId, example: 'rejected', reason: outcome.reason });
    }
    deps.metrics?.recordFeedback?.(tenantId, outcome.result.rating, outcome.result.example);
    res.status(outcome.created ? 201 : 200).json(outcome.result);
  });

  return router;
}

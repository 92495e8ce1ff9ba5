// Feedback that teaches: a user's rating of an answer, kept one per turn. A thumbs-up on an analytics answer
// adds its question (as the turns table keeps it, redacted) and the query that answered it to the tenant's
// SQL examples, so the next similar question that the model writes SQL for is shown it; a corrected SQL,
// once it passes the SQL agent's validator and runs read-only as the tenant's reader role, is stored instead
// (the user's better answer). Everything here is scoped to the calling tenant.
import type pg from 'pg';
import { isConnectionError, type Queryable } from '../../infra/db.ts';
import type { KvCache } from '../../infra/kv-cache.ts';
import type { Embedder } from '../../infra/llm/embeddings.ts';
import { slotSignature } from '../../workflows/shared/slot-signature.ts';
import { embedQuestion } from '../caches/semantic-store.ts';
import { redactPii } from '../guardrails/rules.ts';
import { deleteTenantExample, saveTenantExample } from '../sql/examples.ts';
import { runReadOnly } from '../sql/executor.ts';
import { loadTenantSchema } from '../sql/schema.ts';
import { guardSql } from '../sql/sql-guard.ts';
import { turnQueryOf } from '../sql/turn-queries.ts';
import { isFollowUp } from '../understanding/rules.ts';
import { saveFeedback, type ExampleOutcome, type FeedbackTurn, type Rating } from './store.ts';

/** What feedback needs: the app store, the tenant's data (to run a corrected SQL), the cache, the embedder. */
export interface FeedbackDeps {
  appDb: Queryable;
  /** Tenant analytics data: a corrected SQL runs there before it is kept. Absent: corrections cannot be checked (a 503). */
  tenantDb?: Queryable & Pick<pg.Pool, 'connect'>;
  /** The tenant's schema is read through it (as the SQL agent reads it). */
  kv: Pick<KvCache, 'get' | 'set' | 'delete'>;
  /** The deployment's embedder (the one the SQL agent's question vectors come from). Absent: no example is stored. */
  embedder?: Pick<Embedder, 'model' | 'embed'>;
  embeddingTimeoutMs?: number;
  /** The SQL agent's bounds: statement timeout and row cap (SQL_STATEMENT_TIMEOUT_MS, SQL_MAX_ROWS). */
  sql: { statementTimeoutMs: number; maxRows: number };
}

/** A feedback post (validated by the API). */
export interface FeedbackInput {
  rating: Rating;
  comment?: string;
  correctedSql?: string;
}

/** What a post did: the answer of POST /v1/turns/:turnId/feedback. */
export interface FeedbackResult {
  turnId: string;
  rating: Rating;
  /** What happened to the tenant's example store. */
  example: ExampleOutcome;
  /** Why no example was stored (`none`, `not_analytics`, `removed`). */
  reason?: string;
  /** The example's SQL, when one was stored. */
  sql?: string;
  /** True when this post replaced the turn's earlier feedback. */
  replaced: boolean;
  /** When the feedback was stored (ISO). */
  at: string;
}

/** A dependency feedback needs is not there or not answering (the tenant's data, the embedder): try again later. */
export class FeedbackUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FeedbackUnavailableError';
  }
}

/** A corrected SQL as it is kept, or why it is not (then the post changes nothing). */
export type CorrectionCheck = { ok: true; sql: string } | { ok: false; reason: string };

function hasPersonalData(text: string): string[] {
  return redactPii(text).kinds;
}

/**
 * Checks a user's corrected SQL as the SQL agent checks a model's: no personal data in it (it would be shown
 * to the model in later prompts), the validator (one read-only SELECT over the tenant's own tables, a LIMIT),
 * then a real run, read-only as the tenant's reader role under the statement timeout, so it at least runs.
 */
export async function checkCorrectedSql(deps: FeedbackDeps, tenantId: string, given: string): Promise<CorrectionCheck> {
  // Kept as the user wrote it (the model is shown it so), only without trailing semicolons; the validator runs
  // again whenever a query is run, capping its rows then.
  const sql = given.trim().replace(/[;\s]+$/, '');
  const personal = hasPersonalData(sql);
  if (personal.length) return { ok: false, reason: `the query holds personal data (${personal.join(', ')}); write it without` };
  const tenantDb = deps.tenantDb;
  if (!tenantDb) throw new FeedbackUnavailableError('this API cannot check a corrected SQL (no tenant database configured)');
  const unavailable = (err: unknown) => new FeedbackUnavailableError("the tenant's data cannot be reached to check the query; try again shortly", { cause: err });
  const schema = await loadTenantSchema({ tenantDb, appDb: deps.appDb, kv: deps.kv }, tenantId).catch((err: unknown) => {
    throw isConnectionError(err) ? unavailable(err) : err;
  });
  const guard = await guardSql(sql, { tenantSchema: tenantId, allowedTables: Object.keys(schema.tables), maxRows: deps.sql.maxRows });
  if (!guard.ok) return { ok: false, reason: guard.reason };
  try {
    await runReadOnly(tenantDb, { tenantId, sql: guard.sql, timeoutMs: deps.sql.statementTimeoutMs, signal: AbortSignal.timeout(deps.sql.statementTimeoutMs + 5000) });
  } catch (err) {
    if (isConnectionError(err) || (err as Error).name === 'TimeoutError') throw unavailable(err);
    const e = err as { message?: string; code?: string };
    return { ok: false, reason: `the query does not run: ${(e.message ?? String(err)).slice(0, 300)}` };
  }
  return { ok: true, sql };
}

/** The example a post would store (question and SQL), or why it stores none. */
async function exampleOf(deps: FeedbackDeps, tenantId: string, turn: FeedbackTurn, input: FeedbackInput, corrected: string | null): Promise<{ sql: string } | { reason: string; outcome: ExampleOutcome }> {
  if (turn.intent !== 'analytics') return { outcome: 'not_analytics', reason: `only answers from the data (analytics) become examples; this turn is ${turn.intent}` };
  let sql = corrected;
  if (!sql) {
    if (input.rating === 'down') return { outcome: 'none', reason: 'a thumbs-down without a corrected SQL adds no example' };
    if (turn.cache !== 'none') return { outcome: 'none', reason: `answered from the ${turn.cache} cache: no query ran for this turn` };
    // The query that answered the turn's final reading of the question (a speculative one for another is not it).
    const query = await turnQueryOf(deps.appDb, { workflowId: turn.workflowId, tenantId, signature: slotSignature('analytics', turn.slots) });
    if (!query) return { outcome: 'none', reason: 'no query answered this turn (its data could not be read)' };
    if (hasPersonalData(query.sql).length) return { outcome: 'none', reason: "the turn's query holds personal data" };
    sql = query.sql;
  }
  // "and in Europe?" means nothing without the turns before it: as an example it would mislead.
  if (isFollowUp(turn.message)) return { outcome: 'none', reason: 'a follow-up question means nothing without the turns before it, so it makes no example' };
  if (!deps.embedder) return { outcome: 'none', reason: 'this deployment has no embedder to index examples with' };
  return { sql };
}

/**
 * Applies a post to the tenant's turn: stores the rating (replacing the turn's earlier one) and changes the
 * tenant's example store. A refused corrected SQL changes nothing (`{ ok: false, reason }`).
 */
export async function giveFeedback(
  deps: FeedbackDeps,
  tenantId: string,
  turn: FeedbackTurn,
  input: FeedbackInput,
): Promise<{ ok: true; created: boolean; result: FeedbackResult } | { ok: false; reason: string }> {
  let corrected: string | null = null;
  if (input.correctedSql !== undefined) {
    if (turn.intent !== 'analytics') return { ok: false, reason: `a corrected SQL applies to an answer from the data (analytics); this turn is ${turn.intent}` };
    const check = await checkCorrectedSql(deps, tenantId, input.correctedSql);
    if (!check.ok) return check;
    corrected = check.sql;
  }

  const wanted = await exampleOf(deps, tenantId, turn, input, corrected);
  let example: ExampleOutcome;
  let reason: string | undefined;
  let sql: string | undefined;
  if ('sql' in wanted) {
    let vector: number[];
    try {
      vector = await embedQuestion(deps.embedder!, turn.message, AbortSignal.timeout(deps.embeddingTimeoutMs ?? 2000));
    } catch (err) {
      throw new FeedbackUnavailableError('the question could not be embedded; try again shortly', { cause: err });
    }
    example = await saveTenantExample(deps.appDb, { tenantId, turnId: turn.turnId, question: turn.message, sql: wanted.sql, embedder: deps.embedder!.model, vector });
    sql = wanted.sql;
  } else {
    // A post replaces the one before it: an example this turn's earlier feedback stored goes with it.
    const removed = await deleteTenantExample(deps.appDb, { tenantId, turnId: turn.turnId });
    example = removed && wanted.outcome === 'none' ? 'removed' : wanted.outcome;
    reason = removed ? `${wanted.reason}; the example this turn's earlier feedback added was removed` : wanted.reason;
  }

  const comment = input.comment === undefined ? null : redactPii(input.comment).text;
  const saved = await saveFeedback(deps.appDb, { tenantId, turnId: turn.turnId, rating: input.rating, comment, correctedSql: corrected, example });
  return {
    ok: true,
    created: saved.created,
    result: { turnId: turn.turnId, rating: input.rating, example, ...(reason ? { reason } : {}), ...(sql ? { sql } : {}), replaced: !saved.created, at: saved.at },
  };
}

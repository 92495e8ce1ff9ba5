// The only SQL on `turn_feedback`: a turn's feedback (one per turn, replaced by a second post), the stored
// turn it is about, and the counts GET /v1/stats reports.
import type { Queryable } from '../../infra/db.ts';
import type { IntentOrUnknown, Slots } from '../../workflows/shared/understanding.ts';

/** A user's rating of an answer. */
export type Rating = 'up' | 'down';

/** What feedback did to the tenant's example store. */
export type ExampleOutcome = 'added' | 'updated' | 'removed' | 'none' | 'not_analytics';

/** What feedback reads of a stored turn. */
export interface FeedbackTurn {
  turnId: string;
  workflowId: string;
  /** The message after input redaction, as the turns table keeps it. */
  message: string;
  /** The stored intent: a denied turn is `blocked`, a cancelled one `cancelled`. */
  intent: IntentOrUnknown | 'blocked' | 'cancelled';
  cache: string;
  slots: Slots;
}

/** The tenant's stored turn, or null (no such turn, another tenant's, or not stored yet). */
export async function loadFeedbackTurn(db: Queryable, tenantId: string, turnId: string): Promise<FeedbackTurn | null> {
  const { rows } = await db.query<{ workflow_id: string; message: string; intent: FeedbackTurn['intent']; cache: string; slots: Slots | null }>(
    'SELECT workflow_id, message, intent, cache, slots FROM turns WHERE tenant_id = $1 AND turn_id = $2',
    [tenantId, turnId],
  );
  const r = rows[0];
  return r ? { turnId, workflowId: r.workflow_id, message: r.message, intent: r.intent, cache: r.cache, slots: r.slots ?? {} } : null;
}

/** Stores a turn's feedback, replacing an earlier one; `created` is false when it replaced one. */
export async function saveFeedback(
  db: Queryable,
  f: { tenantId: string; turnId: string; rating: Rating; comment: string | null; correctedSql: string | null; example: ExampleOutcome },
): Promise<{ created: boolean; at: string }> {
  const { rows } = await db.query<{ created: boolean; updated_at: Date }>(
    `INSERT INTO turn_feedback (tenant_id, turn_id, rating, comment, corrected_sql, example) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, turn_id) DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, corrected_sql = EXCLUDED.corrected_sql,
       example = EXCLUDED.example, updated_at = now()
     RETURNING (xmax = 0) AS created, updated_at`,
    [f.tenantId, f.turnId, f.rating, f.comment, f.correctedSql, f.example],
  );
  const row = rows[0]!;
  return { created: row.created, at: new Date(row.updated_at).toISOString() };
}

/** Feedback figures of a window (`GET /v1/stats`). */
export interface FeedbackStats {
  /** Turns whose feedback, given (or last changed) in the window, is a thumbs-up. */
  up: number;
  down: number;
  /** Of those, feedback that came with a corrected SQL. */
  corrected: number;
  /** Of those, feedback that put its question and SQL in the tenant's example store (`added` or `updated`). */
  examplesAdded: number;
}

export const NO_FEEDBACK: FeedbackStats = Object.freeze({ up: 0, down: 0, corrected: 0, examplesAdded: 0 });

/** Feedback given (or last changed) in (from, to], per tenant: one tenant's, or (null) every tenant's. */
export async function feedbackCounts(db: Queryable, q: { tenant: string | null; from: number; to: number }): Promise<Map<string, FeedbackStats>> {
  const params: unknown[] = [new Date(q.from), new Date(q.to)];
  if (q.tenant) params.push(q.tenant);
  const { rows } = await db.query<{ tenant_id: string; up: string; down: string; corrected: string; examples: string }>(
    `SELECT tenant_id,
            count(*) FILTER (WHERE rating = 'up') AS up,
            count(*) FILTER (WHERE rating = 'down') AS down,
            count(*) FILTER (WHERE corrected_sql IS NOT NULL) AS corrected,
            count(*) FILTER (WHERE example IN ('added', 'updated')) AS examples
       FROM turn_feedback
      WHERE updated_at > $1 AND updated_at <= $2${q.tenant ? ' AND tenant_id = $3' : ''}
      GROUP BY tenant_id`,
    params,
  );
  return new Map(rows.map((r) => [r.tenant_id, { up: Number(r.up), down: Number(r.down), corrected: Number(r.corrected), examplesAdded: Number(r.examples) }]));
}

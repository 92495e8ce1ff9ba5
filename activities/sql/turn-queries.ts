// The query the SQL agent ran for a turn, kept in the app store beside the turn: feedback on an analytics
// answer (activities/feedback/) turns it into an example. The turn's result carries no SQL (the `sql` event
// and the stored rows expire), so the agent records it where it is born, with the slot signature it answered.
import type { Queryable } from '../../infra/db.ts';

/** Records the query a turn's SQL agent ran for one reading of the question (a retry or a rerun replaces it). */
export async function recordTurnQuery(db: Queryable, q: { workflowId: string; tenantId: string; signature: string; sql: string; compiled: boolean }): Promise<void> {
  await db.query(
    `INSERT INTO turn_queries (workflow_id, signature, tenant_id, sql, compiled) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (workflow_id, signature) DO UPDATE SET sql = EXCLUDED.sql, compiled = EXCLUDED.compiled, created_at = now()`,
    [q.workflowId, q.signature, q.tenantId, q.sql, q.compiled],
  );
}

/** The query the tenant's turn ran for the reading with this signature; null when it ran none. */
export async function turnQueryOf(db: Queryable, q: { workflowId: string; tenantId: string; signature: string }): Promise<{ sql: string; compiled: boolean } | null> {
  const { rows } = await db.query<{ sql: string; compiled: boolean }>(
    'SELECT sql, compiled FROM turn_queries WHERE workflow_id = $1 AND signature = $2 AND tenant_id = $3',
    [q.workflowId, q.signature, q.tenantId],
  );
  return rows[0] ?? null;
}

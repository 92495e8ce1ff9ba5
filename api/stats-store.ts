// What GET /v1/stats reads: the persisted results of a window's turns, newest first.
import type { Queryable } from '../infra/db.ts';
import type { TurnStatsInput } from './stats-figures.ts';

// The stored result without the parts the figures never read (the answer can be pages long).
const RESULT_FIGURES = `result - '{answer,slots,sources,chart,suggestion,guardrail,generation}'::text[] AS result`;

/** The results of turns created in (from, to], of one tenant or (null) of all, newest first, at most `limit`. */
export async function readTurnResults(
  db: Queryable,
  q: { tenant: string | null; from: number; to: number; limit: number },
): Promise<{ tenant_id: string; result: TurnStatsInput }[]> {
  const { rows } = q.tenant
    ? await db.query<{ tenant_id: string; result: TurnStatsInput }>(
        `SELECT tenant_id, ${RESULT_FIGURES} FROM turns WHERE tenant_id = $1 AND created_at > $2 AND created_at <= $3 ORDER BY created_at DESC LIMIT $4`,
        [q.tenant, new Date(q.from), new Date(q.to), q.limit],
      )
    : await db.query<{ tenant_id: string; result: TurnStatsInput }>(
        `SELECT tenant_id, ${RESULT_FIGURES} FROM turns WHERE created_at > $1 AND created_at <= $2 ORDER BY created_at DESC LIMIT $3`,
        [new Date(q.from), new Date(q.to), q.limit],
      );
  return rows;
}

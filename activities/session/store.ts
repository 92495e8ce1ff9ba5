// The session's persisted turns: the sliding-window history, what a follow-up inherits, and the write.
import type { Queryable } from '../../infra/db.ts';
import type { HistoryMessage, TurnResult } from '../../workflows/shared/contract.ts';
import type { SessionContext } from '../../workflows/shared/understanding.ts';

/** Rough token count (4 characters a token), enough to bound the prompt. */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The last `turns` turns, oldest first, as user/assistant messages, dropping the oldest beyond `tokens`. */
export async function loadHistory(db: Queryable, q: { tenantId: string; sessionId: string; turns: number; tokens: number }): Promise<HistoryMessage[]> {
  if (q.turns === 0 || q.tokens === 0) return [];
  const { rows } = await db.query<{ message: string; answer: string }>(
    `SELECT message, answer FROM turns
      WHERE tenant_id = $1 AND session_id = $2
      ORDER BY created_at DESC LIMIT $3`,
    [q.tenantId, q.sessionId, q.turns],
  );
  // Newest first: keep whole turns while they fit the token budget, then restore the order.
  const kept: HistoryMessage[][] = [];
  let budget = q.tokens;
  for (const r of rows) {
    const cost = approxTokens(r.message) + approxTokens(r.answer);
    if (cost > budget) break;
    budget -= cost;
    kept.push([
      { role: 'user', content: r.message },
      { role: 'assistant', content: r.answer },
    ]);
  }
  return kept.reverse().flat();
}

/** The intent and slots of the session's latest understood turn, or null. */
export async function loadSessionContext(db: Queryable, tenantId: string, sessionId: string): Promise<SessionContext | null> {
  const { rows } = await db.query<{ intent: string; slots: SessionContext['slots'] }>(
    `SELECT intent, slots FROM turns
      WHERE tenant_id = $1 AND session_id = $2 AND intent NOT IN ('unknown', 'blocked', 'cancelled', 'fallback', 'general')
      ORDER BY created_at DESC LIMIT 1`,
    [tenantId, sessionId],
  );
  const row = rows[0];
  return row ? { intent: row.intent as SessionContext['intent'], slots: row.slots ?? {} } : null;
}

/** What `persistTurn` stores. */
export interface PersistTurnInput {
  tenantId: string;
  sessionId: string;
  userId?: string;
  /** The message after input redaction. */
  redactedMessage: string;
  result: TurnResult;
}

/** Saves a finished turn; the same turn saved twice (a retry) is a no-op. */
export async function insertTurn(db: Queryable, input: PersistTurnInput): Promise<void> {
  const r = input.result;
  await db.query(
    `INSERT INTO turns (turn_id, workflow_id, tenant_id, session_id, user_id, message, answer, cache, intent,
                        complexity, provider, model, usage, cost_usd, timings, fallbacks, result, slots)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
     ON CONFLICT (turn_id) DO NOTHING`,
    [
      r.turnId,
      r.workflowId,
      input.tenantId,
      input.sessionId,
      input.userId ?? null,
      input.redactedMessage,
      r.answer,
      r.cache,
      r.error ? (r.error.code === 'cancelled' ? 'cancelled' : 'blocked') : r.intent,
      r.complexity,
      r.provider ?? null,
      r.model ?? null,
      JSON.stringify(r.usage),
      r.costUsd,
      JSON.stringify(r.timings),
      JSON.stringify(r.fallbacks),
      JSON.stringify(r),
      JSON.stringify(r.slots ?? {}),
    ],
  );
}

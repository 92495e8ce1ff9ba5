import type { HistoryMessage, TurnResult } from '../workflows/shared/contract.ts';
import type { ActivityDeps } from './deps.ts';

/** Session activities: the sliding-window history and the persisted turn. */
export function createSessionActivities(deps: Pick<ActivityDeps, 'appDb' | 'settings'>) {
  return {
    /** The session's last N turns as alternating user/assistant messages, oldest first. */
    async loadSessionHistory(input: { tenantId: string; sessionId: string }): Promise<HistoryMessage[]> {
      const window = deps.settings.historyWindowTurns;
      if (window === 0) return [];
      const { rows } = await deps.appDb.query<{ message: string; answer: string }>(
        `SELECT message, answer FROM turns
          WHERE tenant_id = $1 AND session_id = $2
          ORDER BY created_at DESC LIMIT $3`,
        [input.tenantId, input.sessionId, window],
      );
      return rows.reverse().flatMap((r) => [
        { role: 'user' as const, content: r.message },
        { role: 'assistant' as const, content: r.answer },
      ]);
    },

    /** Saves the finished turn; a retry of the same turn is a no-op (turn id is the key). */
    async persistTurn(input: { tenantId: string; sessionId: string; userId?: string; redactedMessage: string; result: TurnResult }): Promise<void> {
      const r = input.result;
      await deps.appDb.query(
        `INSERT INTO turns (turn_id, workflow_id, tenant_id, session_id, user_id, message, answer, cache, intent,
                            complexity, provider, model, usage, cost_usd, timings, fallbacks, result)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)
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
          r.intent,
          r.complexity,
          r.provider ?? null,
          r.model ?? null,
          JSON.stringify(r.usage),
          r.costUsd,
          JSON.stringify(r.timings),
          JSON.stringify(r.fallbacks),
          JSON.stringify(r),
        ],
      );
    },
  };
}

// Admission counts in this process: the embedded default (`npm start`, API and worker in one process).
import { gcra, utcDay, type AdmissionStore, type AdmitRequest, type AdmitResult } from './limits.ts';

interface Ticket {
  tenantId: string;
  keyId: string;
  processId: string;
  expiresAt: number;
}

/** Running turns (with their expiry), per-minute buckets and daily budgets, in Maps. */
export function createMemoryAdmissionStore(): AdmissionStore {
  const tickets = new Map<string, Ticket>();
  const tats = new Map<string, number>();
  const budgets = new Map<string, { tokens: number; costUsd: number }>();

  const running = (now: number, match: (t: Ticket) => boolean): number => {
    let n = 0;
    for (const [id, t] of tickets) {
      if (t.expiresAt <= now) tickets.delete(id);
      else if (match(t)) n++;
    }
    return n;
  };
  const budgetKey = (tenantId: string, now: number) => `${tenantId}\n${utcDay(now)}`;

  return {
    async admit(r: AdmitRequest): Promise<AdmitResult> {
      const { now, limits } = r;
      const refuse = (limit: Extract<AdmitResult, { ok: false }>['limit'], value: number, retryAfterMs: number | null): AdmitResult => ({ ok: false, limit, value, retryAfterMs });
      if (r.maxInFlight !== null && running(now, (t) => t.processId === r.processId) >= r.maxInFlight) return refuse('process.inFlight', r.maxInFlight, 1000);
      if (r.maxRunning !== null && running(now, () => true) >= r.maxRunning) return refuse('deployment.running', r.maxRunning, 1000);
      const used = budgets.get(budgetKey(r.tenantId, now)) ?? { tokens: 0, costUsd: 0 };
      if (limits.dailyTokens !== null && used.tokens >= limits.dailyTokens) return refuse('tenant.dailyTokens', limits.dailyTokens, null);
      if (limits.dailyCostUsd !== null && used.costUsd >= limits.dailyCostUsd) return refuse('tenant.dailyCostUsd', limits.dailyCostUsd, null);
      if (limits.concurrentTurns !== null && running(now, (t) => t.tenantId === r.tenantId) >= limits.concurrentTurns) return refuse('tenant.concurrentTurns', limits.concurrentTurns, 1000);
      if (limits.perKey.concurrentTurns !== null && running(now, (t) => t.keyId === r.keyId) >= limits.perKey.concurrentTurns) return refuse('key.concurrentTurns', limits.perKey.concurrentTurns, 1000);
      const tenantRate = limits.turnsPerMinute === null ? null : gcra(tats.get(`t\n${r.tenantId}`) ?? 0, now, limits.turnsPerMinute);
      if (tenantRate && !tenantRate.allowed) return refuse('tenant.turnsPerMinute', limits.turnsPerMinute!, tenantRate.waitMs);
      const keyRate = limits.perKey.turnsPerMinute === null ? null : gcra(tats.get(`k\n${r.keyId}`) ?? 0, now, limits.perKey.turnsPerMinute);
      if (keyRate && !keyRate.allowed) return refuse('key.turnsPerMinute', limits.perKey.turnsPerMinute!, keyRate.waitMs);
      if (tenantRate?.allowed) tats.set(`t\n${r.tenantId}`, tenantRate.tat);
      if (keyRate?.allowed) tats.set(`k\n${r.keyId}`, keyRate.tat);
      tickets.set(r.workflowId, { tenantId: r.tenantId, keyId: r.keyId, processId: r.processId, expiresAt: r.expiresAt });
      return { ok: true };
    },

    async release(workflowId, used, now) {
      const ticket = tickets.get(workflowId);
      if (!ticket) return false;
      tickets.delete(workflowId);
      if (used && (used.tokens > 0 || used.costUsd > 0)) {
        const key = budgetKey(ticket.tenantId, now);
        const b = budgets.get(key) ?? { tokens: 0, costUsd: 0 };
        budgets.set(key, { tokens: b.tokens + used.tokens, costUsd: b.costUsd + used.costUsd });
        // Yesterday's budgets are no longer read.
        for (const k of budgets.keys()) if (!k.endsWith(`\n${utcDay(now)}`)) budgets.delete(k);
      }
      return true;
    },

    async usage(tenantId, now) {
      const b = budgets.get(budgetKey(tenantId, now)) ?? { tokens: 0, costUsd: 0 };
      return { running: running(now, (t) => t.tenantId === tenantId), tokensToday: b.tokens, costUsdToday: b.costUsd };
    },
  };
}

// Admission counts in this process: the embedded default (`npm start`, API and worker in one process), and
// the unit tests. Same semantics as the Redis store (redis-store.ts), in Maps; the clock is the caller's.
import { deploymentCapacity, gcra, utcDay, type AdmissionStore, type AdmitRequest, type AdmitResult, type LimitName } from './limits.ts';

/** A running turn's slot: whose it is, and when it lapses if its end is never seen. */
interface Ticket {
  tenantId: string;
  keyId: string;
  processId: string;
  expiresAt: number;
}

/** Running turns (with their expiry), per-minute buckets, daily budgets and the workers' bounds, in Maps. */
export function createMemoryAdmissionStore(): AdmissionStore {
  const tickets = new Map<string, Ticket>();
  const tats = new Map<string, number>();
  const budgets = new Map<string, { tokens: number; costUsd: number }>();
  const workers = new Map<string, { maxTurns: number; expiresAt: number }>();

  /** Drops lapsed slots (a turn whose end was never seen) and counts the running turns `match` accepts. */
  const running = (now: number, match: (t: Ticket) => boolean = () => true): number => {
    let n = 0;
    for (const [id, t] of tickets) {
      if (t.expiresAt <= now) tickets.delete(id);
      else if (match(t)) n++;
    }
    return n;
  };
  const workerBounds = (now: number): number[] => {
    const bounds: number[] = [];
    for (const [id, w] of workers) {
      if (w.expiresAt <= now) workers.delete(id);
      else bounds.push(w.maxTurns);
    }
    return bounds;
  };
  const budgetKey = (tenantId: string, now: number) => `${tenantId}\n${utcDay(now)}`;

  return {
    async admit(r: AdmitRequest): Promise<AdmitResult> {
      const { now, limits } = r;
      const refuse = (limit: LimitName, value: number, retryAfterMs: number | null): AdmitResult => ({ ok: false, limit, value, retryAfterMs });
      const held = tickets.get(r.workflowId);
      if (held && held.expiresAt > now) return { ok: true, held: true };
      if (r.maxInFlight !== null && running(now, (t) => t.processId === r.processId) >= r.maxInFlight) return refuse('process.inFlight', r.maxInFlight, 1000);
      const capacity = deploymentCapacity(workerBounds(now), r.maxRunning);
      if (capacity !== null && running(now) >= capacity) return refuse('deployment.running', capacity, 1000);
      const used = budgets.get(budgetKey(r.tenantId, now)) ?? { tokens: 0, costUsd: 0 };
      if (limits.dailyTokens !== null && used.tokens >= limits.dailyTokens) return refuse('tenant.dailyTokens', limits.dailyTokens, null);
      if (limits.dailyCostUsd !== null && used.costUsd >= limits.dailyCostUsd) return refuse('tenant.dailyCostUsd', limits.dailyCostUsd, null);
      if (limits.concurrentTurns !== null && running(now, (t) => t.tenantId === r.tenantId) >= limits.concurrentTurns) return refuse('tenant.concurrentTurns', limits.concurrentTurns, 1000);
      const perKey = limits.perKey;
      if (perKey.concurrentTurns !== null && running(now, (t) => t.tenantId === r.tenantId && t.keyId === r.keyId) >= perKey.concurrentTurns) return refuse('key.concurrentTurns', perKey.concurrentTurns, 1000);
      const tenantBucket = `t\n${r.tenantId}`;
      const keyBucket = `k\n${r.tenantId}\n${r.keyId}`;
      const tenantRate = limits.turnsPerMinute === null ? null : gcra(tats.get(tenantBucket) ?? 0, now, limits.turnsPerMinute);
      if (tenantRate && !tenantRate.allowed) return refuse('tenant.turnsPerMinute', limits.turnsPerMinute!, tenantRate.waitMs);
      const keyRate = perKey.turnsPerMinute === null ? null : gcra(tats.get(keyBucket) ?? 0, now, perKey.turnsPerMinute);
      if (keyRate && !keyRate.allowed) return refuse('key.turnsPerMinute', perKey.turnsPerMinute!, keyRate.waitMs);
      // Nothing is recorded until every check has passed: a refused turn costs no slot and no bucket room.
      if (tenantRate?.allowed) tats.set(tenantBucket, tenantRate.tat);
      if (keyRate?.allowed) tats.set(keyBucket, keyRate.tat);
      // A bucket whose time has passed is the same as no bucket.
      if (tats.size > 10_000) for (const [k, tat] of tats) if (tat <= now) tats.delete(k);
      tickets.set(r.workflowId, { tenantId: r.tenantId, keyId: r.keyId, processId: r.processId, expiresAt: r.expiresAt });
      return { ok: true, held: false };
    },

    async release(workflowId, used, now) {
      const ticket = tickets.get(workflowId);
      if (!ticket) return false;
      tickets.delete(workflowId);
      if (used && (used.tokens > 0 || used.costUsd > 0)) {
        const key = budgetKey(ticket.tenantId, now);
        const b = budgets.get(key) ?? { tokens: 0, costUsd: 0 };
        budgets.set(key, { tokens: b.tokens + used.tokens, costUsd: b.costUsd + used.costUsd });
        // Earlier days' budgets are no longer read.
        const today = `\n${utcDay(now)}`;
        for (const k of budgets.keys()) if (!k.endsWith(today)) budgets.delete(k);
      }
      return true;
    },

    async usage(tenantId, now) {
      const b = budgets.get(budgetKey(tenantId, now)) ?? { tokens: 0, costUsd: 0 };
      return { running: running(now, (t) => t.tenantId === tenantId), tokensToday: b.tokens, costUsdToday: b.costUsd };
    },

    async load(processId, now) {
      return { inFlight: running(now, (t) => t.processId === processId), running: running(now), workerBounds: workerBounds(now) };
    },

    async registerWorker(workerId, maxTurns, now, ttlMs) {
      workers.set(workerId, { maxTurns, expiresAt: now + ttlMs });
    },

    async unregisterWorker(workerId) {
      workers.delete(workerId);
    },
  };
}

// Admission control, the pure part: which limits a turn is checked against, in which order, how the
// deployment's capacity follows from its workers' bounds, and how a refusal reads (HTTP status, code,
// Retry-After, message). The counting lives in the stores (memory-store.ts, redis-store.ts); admission.ts
// puts them together for the API.
import type { TenantSettings } from '../../workflows/shared/tenant-settings.ts';

/** Every limit a turn can be refused by, in the order they are checked (the first that refuses wins). */
export const LIMIT_NAMES = [
  'process.inFlight',
  'deployment.running',
  'tenant.dailyTokens',
  'tenant.dailyCostUsd',
  'tenant.concurrentTurns',
  'key.concurrentTurns',
  'tenant.turnsPerMinute',
  'key.turnsPerMinute',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** A tenant's limits (tenant settings `limits`; null = no limit). */
export type TenantLimits = TenantSettings['limits'];

/** What the store needs to decide one turn, all at once (one round trip, atomic). */
export interface AdmitRequest {
  now: number;
  workflowId: string;
  tenantId: string;
  /** The API key's id (not the key): `keyIdOf` in api/auth.ts. */
  keyId: string;
  /** This API process (its in-flight bound). */
  processId: string;
  /** When the turn's slot is freed even if its end is never seen (a crashed turn must not hold it). */
  expiresAt: number;
  limits: TenantLimits;
  /** Turns this process admitted that have not ended (MAX_INFLIGHT_TURNS); null: no bound. */
  maxInFlight: number | null;
  /** A fixed cap on the deployment's running turns (MAX_RUNNING_TURNS) over its workers' bounds; null: none. */
  maxRunning: number | null;
}

/**
 * Admitted, or the limit that refused and how long until it could pass (ms; null: the next UTC day).
 * `held`: the workflow id already holds a slot (an Idempotency-Key replay of a turn that is running), so
 * nothing was counted for this request and releasing it must not free that turn's slot.
 */
export type AdmitResult = { ok: true; held: boolean } | { ok: false; limit: LimitName; value: number; retryAfterMs: number | null };

/** What a finished turn used, added to its tenant's day. */
export interface TurnUsage {
  tokens: number;
  costUsd: number;
}

/** The running turns around one API process, and the bounds its live workers advertise (WORKER_MAX_TURNS; 0: none). */
export interface DeploymentLoad {
  /** Turns this process admitted that have not ended. */
  inFlight: number;
  /** Turns running in the deployment: every API process sharing the store. */
  running: number;
  workerBounds: number[];
}

/** Counts of admitted turns, shared by the API processes (Redis) or kept in this one (memory). */
export interface AdmissionStore {
  admit(req: AdmitRequest): Promise<AdmitResult>;
  /** Frees a turn's slots and adds what it used to its tenant's day; a second release is a no-op (false). */
  release(workflowId: string, used: TurnUsage | null, now: number): Promise<boolean>;
  /** A tenant's running turns and what it used today (UTC). */
  usage(tenantId: string, now: number): Promise<{ running: number; tokensToday: number; costUsdToday: number }>;
  /** This process's and the deployment's running turns, and the live workers' bounds. */
  load(processId: string, now: number): Promise<DeploymentLoad>;
  /** A worker advertises how many turns it serves at once (0: no bound) for `ttlMs`; its heartbeat renews it. */
  registerWorker(workerId: string, maxTurns: number, now: number, ttlMs: number): Promise<void>;
  /** A worker that stops takes its bound back at once (else it lapses after its TTL). */
  unregisterWorker(workerId: string): Promise<void>;
}

/**
 * The deployment's bound on running turns: the sum of its live workers' bounds, capped by MAX_RUNNING_TURNS.
 * No bound from the workers when none advertises one (none is alive, or they predate advertising: a turn
 * then waits in Temporal's queue, as it would without admission) or when one of them has no bound itself.
 */
export function deploymentCapacity(workerBounds: readonly number[], maxRunning: number | null): number | null {
  const fromWorkers = workerBounds.length === 0 || workerBounds.some((b) => b <= 0) ? null : workerBounds.reduce((sum, b) => sum + b, 0);
  if (fromWorkers === null) return maxRunning;
  return maxRunning === null ? fromWorkers : Math.min(fromWorkers, maxRunning);
}

/** The UTC day a budget counts in. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/** Milliseconds until the next UTC midnight, when the daily budgets start again. */
export function msUntilNextUtcDay(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) - now;
}

/** GCRA (a token bucket of `perMinute` turns, refilled evenly over the minute): the next state, or how long to wait. */
export function gcra(tat: number, now: number, perMinute: number): { allowed: true; tat: number } | { allowed: false; waitMs: number } {
  const interval = 60_000 / perMinute;
  const tolerance = 60_000 - interval;
  const from = Math.max(tat, now);
  if (from - now > tolerance) return { allowed: false, waitMs: from - now - tolerance };
  return { allowed: true, tat: from + interval };
}

/** Tokens and cost a turn's terminal event reports: a `done`'s `usage` (input + output) and `costUsd`; nothing for an `error`. */
export function usageOf(event: { type: string; data: unknown }): TurnUsage | null {
  if (event.type !== 'done') return null;
  const d = event.data as { usage?: { inputTokens?: number; outputTokens?: number }; costUsd?: number } | null;
  const count = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0);
  return { tokens: Math.round(count(d?.usage?.inputTokens) + count(d?.usage?.outputTokens)), costUsd: count(d?.costUsd) };
}

/** What a refusal's `details` say: the limit, its scope and value, and (per key) the key's id, never the key. */
export interface RefusalDetails {
  limit: LimitName;
  scope: 'process' | 'deployment' | 'tenant' | 'key';
  value: number;
  retryAfterSeconds: number;
  keyId?: string;
}

/** A refusal as the API answers it. */
export interface Refusal {
  status: 429 | 503;
  code: 'rate_limited' | 'budget_exhausted' | 'overloaded';
  message: string;
  retryAfterSeconds: number;
  details: RefusalDetails;
}

/** How a refusal reads: 503 for a full process or deployment, 429 for the tenant's or the key's own limits. */
export function refusalOf(r: Extract<AdmitResult, { ok: false }>, who: { tenantId: string; keyId: string }, now: number): Refusal {
  // Whole seconds, at least one: a client that waits exactly this long finds the slot free.
  const retryAfterSeconds = Math.max(1, Math.ceil((r.retryAfterMs ?? msUntilNextUtcDay(now)) / 1000));
  const scope = r.limit.split('.')[0] as RefusalDetails['scope'];
  const details: RefusalDetails = { limit: r.limit, scope, value: r.value, retryAfterSeconds, ...(scope === 'key' ? { keyId: who.keyId } : {}) };
  const again = `retry in ${retryAfterSeconds} s`;
  const tenant = `Tenant ${who.tenantId}`;
  const key = `API key ${who.keyId}… of tenant ${who.tenantId}`;
  const midnight = `the budget starts again at midnight UTC, in ${retryAfterSeconds} s`;
  const refusal = (status: Refusal['status'], code: Refusal['code'], message: string): Refusal => ({ status, code, message, retryAfterSeconds, details });
  switch (r.limit) {
    case 'process.inFlight':
      return refusal(503, 'overloaded', `This server is answering ${r.value} turns, its limit; ${again}`);
    case 'deployment.running':
      return refusal(503, 'overloaded', `The service is answering ${r.value} turns, all its workers can serve at once; ${again}`);
    case 'tenant.dailyTokens':
      return refusal(429, 'budget_exhausted', `${tenant} has used its ${r.value} tokens for today (UTC); ${midnight}`);
    case 'tenant.dailyCostUsd':
      return refusal(429, 'budget_exhausted', `${tenant} has used its $${r.value} for today (UTC); ${midnight}`);
    case 'tenant.concurrentTurns':
      return refusal(429, 'rate_limited', `${tenant} has ${r.value} turns running, its limit; ${again}`);
    case 'key.concurrentTurns':
      return refusal(429, 'rate_limited', `${key} has ${r.value} turns running, its limit; ${again}`);
    case 'tenant.turnsPerMinute':
      return refusal(429, 'rate_limited', `${tenant} is over its limit of ${r.value} turns per minute; ${again}`);
    case 'key.turnsPerMinute':
      return refusal(429, 'rate_limited', `${key} is over its limit of ${r.value} turns per minute; ${again}`);
  }
}

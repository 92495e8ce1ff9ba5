// Admission control, the pure part: which limits a turn is checked against, in which order, and how a
// refusal reads (HTTP status, code, Retry-After, message). The counting lives in the stores
// (memory-store.ts, redis-store.ts); admission.ts puts them together for the API.
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

/** What the store needs to decide one turn, all at once (one round trip, atomic). */
export interface AdmitRequest {
  now: number;
  workflowId: string;
  tenantId: string;
  /** The API key's id (not the key): `keyIdOf`. */
  keyId: string;
  /** This API process (its in-flight bound). */
  processId: string;
  /** When the turn's slot is freed even if its end is never seen (a crashed turn must not hold it). */
  expiresAt: number;
  limits: TenantSettings['limits'];
  /** Turns this process admitted that have not ended (MAX_INFLIGHT_TURNS); null: no bound. */
  maxInFlight: number | null;
  /** Turns running in the whole deployment (MAX_RUNNING_TURNS); null: no bound. */
  maxRunning: number | null;
}

/** Admitted, or the limit that refused and how long until it could pass (ms; null: the next UTC day). */
export type AdmitResult = { ok: true } | { ok: false; limit: LimitName; value: number; retryAfterMs: number | null };

/** Counts of admitted turns, shared by the API processes (Redis) or kept in this one (memory). */
export interface AdmissionStore {
  admit(req: AdmitRequest): Promise<AdmitResult>;
  /** Frees a turn's slots and adds what it used to its tenant's day; a second release is a no-op. */
  release(workflowId: string, used: { tokens: number; costUsd: number } | null, now: number): Promise<boolean>;
  /** A tenant's running turns and what it used today (UTC). */
  usage(tenantId: string, now: number): Promise<{ running: number; tokensToday: number; costUsdToday: number }>;
  close?(): Promise<void>;
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

/** A refusal as the API answers it. */
export interface Refusal {
  status: 429 | 503;
  code: 'rate_limited' | 'budget_exhausted' | 'overloaded';
  message: string;
  retryAfterSeconds: number;
  details: { limit: LimitName; scope: 'process' | 'deployment' | 'tenant' | 'key'; value: number; retryAfterSeconds: number };
}

/** How a refusal reads: 503 for a full process or deployment, 429 for the tenant's or the key's own limits. */
export function refusalOf(r: Extract<AdmitResult, { ok: false }>, tenantId: string, now: number): Refusal {
  const retryAfterSeconds = Math.max(1, Math.ceil((r.retryAfterMs ?? msUntilNextUtcDay(now)) / 1000));
  const scope = r.limit.split('.')[0] as Refusal['details']['scope'];
  const details = { limit: r.limit, scope, value: r.value, retryAfterSeconds };
  const again = `retry in ${retryAfterSeconds} s`;
  switch (r.limit) {
    case 'process.inFlight':
      return { status: 503, code: 'overloaded', retryAfterSeconds, details, message: `This server is answering ${r.value} turns already; ${again}` };
    case 'deployment.running':
      return { status: 503, code: 'overloaded', retryAfterSeconds, details, message: `The service is answering ${r.value} turns already; ${again}` };
    case 'tenant.dailyTokens':
      return { status: 429, code: 'budget_exhausted', retryAfterSeconds, details, message: `Tenant ${tenantId} has used its ${r.value} tokens for today (UTC); the budget starts again at midnight UTC, in ${retryAfterSeconds} s` };
    case 'tenant.dailyCostUsd':
      return { status: 429, code: 'budget_exhausted', retryAfterSeconds, details, message: `Tenant ${tenantId} has used its $${r.value} for today (UTC); the budget starts again at midnight UTC, in ${retryAfterSeconds} s` };
    case 'tenant.concurrentTurns':
      return { status: 429, code: 'rate_limited', retryAfterSeconds, details, message: `Tenant ${tenantId} has ${r.value} turns running, its limit; ${again}` };
    case 'key.concurrentTurns':
      return { status: 429, code: 'rate_limited', retryAfterSeconds, details, message: `This API key has ${r.value} turns running, its limit; ${again}` };
    case 'tenant.turnsPerMinute':
      return { status: 429, code: 'rate_limited', retryAfterSeconds, details, message: `Tenant ${tenantId} is over its limit of ${r.value} turns per minute; ${again}` };
    case 'key.turnsPerMinute':
      return { status: 429, code: 'rate_limited', retryAfterSeconds, details, message: `This API key is over its limit of ${r.value} turns per minute; ${again}` };
  }
}

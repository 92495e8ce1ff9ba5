// Admission control for the API: a turn is checked against its tenant's and key's limits and against
// what this process and the deployment can serve, before its workflow starts; it is freed when its
// terminal event is written (`releasingBus` wraps the turn event bus, the one funnel every turn ends
// through, in the API and in the workers alike). Refusals are counted for /v1/stats and /metrics.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { TenantSettings } from '../../workflows/shared/tenant-settings.ts';
import type { TurnEvent } from '../../workflows/shared/contract.ts';
import type { TurnEventBus } from '../turn-events/bus.ts';
import { refusalOf, type AdmissionStore, type LimitName, type Refusal } from './limits.ts';

export { LIMIT_NAMES, type LimitName, type Refusal } from './limits.ts';

/** The process's bounds (MAX_INFLIGHT_TURNS, MAX_RUNNING_TURNS): null or 0 = none. */
export interface AdmissionOptions {
  store: AdmissionStore;
  maxInFlight?: number | null;
  maxRunning?: number | null;
  now?: () => number;
  /** Called on every refusal (metrics). */
  onRefused?: (tenantId: string, limit: LimitName) => void;
}

export interface Admission {
  /** Admits the turn (and holds its slots until `release`), or says why not. */
  admit(turn: { workflowId: string; tenantId: string; keyId: string; limits: TenantSettings['limits']; turnMs: number }): Promise<{ ok: true } | { ok: false; refusal: Refusal }>;
  /** Frees a turn that will not run after all (a failed start, an idempotent replay). */
  release(workflowId: string): Promise<void>;
  /** A tenant's limits and how much of them is in use; refusals are this process's since it started. */
  usage(tenantId: string, limits: TenantSettings['limits']): Promise<AdmissionUsage>;
  readonly store: AdmissionStore;
}

/** What GET /v1/stats shows of a tenant's admission. */
export interface AdmissionUsage {
  limits: TenantSettings['limits'];
  running: number;
  today: { tokens: number; costUsd: number };
  refusedSinceStart: Partial<Record<LimitName, number>>;
  process: { maxInFlightTurns: number | null; maxRunningTurns: number | null };
}

/** A running turn's slot is freed after the turn's deadline plus this, if its end was never seen. */
const SLOT_GRACE_MS = 60_000;

export function createAdmission(opts: AdmissionOptions): Admission {
  const processId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const now = opts.now ?? Date.now;
  const bound = (x: number | null | undefined) => (x ? x : null);
  const maxInFlight = bound(opts.maxInFlight);
  const maxRunning = bound(opts.maxRunning);
  const refused = new Map<string, Partial<Record<LimitName, number>>>();
  return {
    store: opts.store,
    async admit(turn) {
      const t = now();
      const result = await opts.store.admit({ now: t, workflowId: turn.workflowId, tenantId: turn.tenantId, keyId: turn.keyId, processId, expiresAt: t + turn.turnMs + SLOT_GRACE_MS, limits: turn.limits, maxInFlight, maxRunning });
      if (result.ok) return { ok: true };
      const counts = refused.get(turn.tenantId) ?? {};
      counts[result.limit] = (counts[result.limit] ?? 0) + 1;
      refused.set(turn.tenantId, counts);
      opts.onRefused?.(turn.tenantId, result.limit);
      return { ok: false, refusal: refusalOf(result, turn.tenantId, t) };
    },
    async release(workflowId) {
      await opts.store.release(workflowId, null, now());
    },
    async usage(tenantId, limits) {
      const u = await opts.store.usage(tenantId, now());
      return { limits, running: u.running, today: { tokens: u.tokensToday, costUsd: Math.round(u.costUsdToday * 1e6) / 1e6 }, refusedSinceStart: refused.get(tenantId) ?? {}, process: { maxInFlightTurns: maxInFlight, maxRunningTurns: maxRunning } };
    },
  };
}

/** The workflow id of a turn's event stream key (`turn:{<workflow id>}:events`). */
function workflowIdOf(stream: string): string | null {
  return /^turn:\{(.+)\}:events$/.exec(stream)?.[1] ?? null;
}

/** Tokens and cost a terminal event reports (a `done`'s usage and costUsd). */
function usedBy(event: TurnEvent): { tokens: number; costUsd: number } | null {
  if (event.type !== 'done') return null;
  const d = event.data as { usage?: { inputTokens?: number; outputTokens?: number }; costUsd?: number };
  return { tokens: (d.usage?.inputTokens ?? 0) + (d.usage?.outputTokens ?? 0), costUsd: d.costUsd ?? 0 };
}

/**
 * The bus, freeing a turn's admission when its terminal event is written (the first one: a retried
 * publish frees nothing twice) and adding its tokens and cost to its tenant's day. A failure to free is
 * logged, never the publisher's: the slot expires after the turn's deadline anyway.
 */
export function releasingBus(bus: TurnEventBus, store: AdmissionStore, log?: { warn(obj: object, msg: string): void }, now: () => number = Date.now): TurnEventBus {
  return {
    ...bus,
    publish: (stream, event) => bus.publish(stream, event),
    exists: (stream) => bus.exists(stream),
    subscribe: (stream, afterId, o) => bus.subscribe(stream, afterId, o),
    close: () => bus.close(),
    async publishTerminal(stream, event) {
      const id = await bus.publishTerminal(stream, event);
      const workflowId = workflowIdOf(stream);
      if (id !== null && workflowId) {
        await store.release(workflowId, usedBy(event), now()).catch((err) => log?.warn({ err, workflowId }, 'could not free a finished turn’s admission (it expires after the turn’s deadline)'));
      }
      return id;
    },
  };
}

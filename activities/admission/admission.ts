// Admission control for the API: a turn is checked against its tenant's and key's limits and against what
// this process and the deployment can serve, before its workflow starts; it is freed when its terminal event
// is written (`releasingBus` wraps the turn event bus, the one funnel every turn ends through, in the API
// and in the workers alike). Refusals are counted for /v1/stats and /metrics.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { TurnEventBus } from '../turn-events/bus.ts';
import { deploymentCapacity, refusalOf, usageOf, type AdmissionStore, type LimitName, type Refusal, type TenantLimits } from './limits.ts';

export { LIMIT_NAMES, type LimitName, type Refusal, type TenantLimits } from './limits.ts';

/** The process's bounds (MAX_INFLIGHT_TURNS, MAX_RUNNING_TURNS): null or 0 = none. */
export interface AdmissionOptions {
  store: AdmissionStore;
  maxInFlight?: number | null;
  maxRunning?: number | null;
  now?: () => number;
  /** Called on every refusal (metrics). */
  onRefused?: (tenantId: string, limit: LimitName) => void;
}

/** A turn's hold on its slots, from admission until its terminal event is written. */
export interface AdmissionTicket {
  readonly workflowId: string;
  /**
   * False for an Idempotency-Key replay of a turn that is still running: the slots are that turn's, and
   * `release` leaves them to its terminal event.
   */
  readonly counted: boolean;
  /** Gives the slots back at once, for a turn that will not run after all (a failed start, a replay). */
  release(): Promise<void>;
}

/** A turn as admission sees it. */
export interface TurnToAdmit {
  workflowId: string;
  tenantId: string;
  keyId: string;
  limits: TenantLimits;
  /** The tenant's whole-turn deadline (`deadlines.turnMs`): a slot whose end is never seen lapses after it. */
  turnMs: number;
}

/** What GET /v1/stats shows of a tenant's admission. */
export interface AdmissionUsage {
  limits: TenantLimits;
  running: number;
  today: { tokens: number; costUsd: number };
  /** This API process's refusals since it started, by limit. */
  refusedSinceStart: Partial<Record<LimitName, number>>;
}

/** What GET /v1/stats shows an admin key: this process, the deployment, every tenant. */
export interface AdmissionOverview {
  process: { inFlight: number; maxInFlightTurns: number | null };
  deployment: { running: number; capacity: number | null; liveWorkers: number; maxRunningTurns: number | null };
  byTenant: Record<string, AdmissionUsage>;
}

/** What the admission gauges of /metrics read at a scrape (infra/metrics.ts `AdmissionGaugeSource`). */
export interface AdmissionGauges {
  inFlight: number;
  running: number;
  capacity: number | null;
  budgets: { tenant: string; tokens: number; costUsd: number }[];
}

export interface Admission {
  /** Admits the turn (its slots held until its terminal event, or `ticket.release()`), or says why not. */
  admit(turn: TurnToAdmit): Promise<{ ok: true; ticket: AdmissionTicket } | { ok: false; refusal: Refusal }>;
  /** A tenant's limits and how much of them is in use. */
  usage(tenantId: string, limits: TenantLimits): Promise<AdmissionUsage>;
  /** This process, the deployment and the given tenants (an admin's view). */
  overview(tenants: { tenantId: string; limits: TenantLimits }[]): Promise<AdmissionOverview>;
  /** Running turns, capacity and today's budgets of the tenants this process has seen (the /metrics gauges). */
  gauges(): Promise<AdmissionGauges>;
  readonly store: AdmissionStore;
}

/** A running turn's slot is freed after the turn's deadline plus this, if its end was never seen. */
export const SLOT_GRACE_MS = 60_000;

/** Six decimals: what a turn's `costUsd` carries. */
const usd = (x: number) => Math.round(x * 1e6) / 1e6;

export function createAdmission(opts: AdmissionOptions): Admission {
  const processId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const now = opts.now ?? Date.now;
  const bound = (x: number | null | undefined) => (x ? x : null);
  const maxInFlight = bound(opts.maxInFlight);
  const maxRunning = bound(opts.maxRunning);
  const refused = new Map<string, Partial<Record<LimitName, number>>>();
  // The tenants whose budgets /metrics shows: those this process has admitted or refused (a bounded set).
  const seen = new Set<string>();
  const store = opts.store;

  const usage = async (tenantId: string, limits: TenantLimits, t: number): Promise<AdmissionUsage> => {
    const u = await store.usage(tenantId, t);
    return { limits, running: u.running, today: { tokens: u.tokensToday, costUsd: usd(u.costUsdToday) }, refusedSinceStart: refused.get(tenantId) ?? {} };
  };

  return {
    store,
    async admit(turn) {
      const t = now();
      seen.add(turn.tenantId);
      const result = await store.admit({
        now: t,
        workflowId: turn.workflowId,
        tenantId: turn.tenantId,
        keyId: turn.keyId,
        processId,
        expiresAt: t + turn.turnMs + SLOT_GRACE_MS,
        limits: turn.limits,
        maxInFlight,
        maxRunning,
      });
      if (result.ok) {
        const counted = !result.held;
        let released = false;
        const ticket: AdmissionTicket = {
          workflowId: turn.workflowId,
          counted,
          async release() {
            if (!counted || released) return;
            released = true;
            await store.release(turn.workflowId, null, now());
          },
        };
        return { ok: true, ticket };
      }
      const counts = refused.get(turn.tenantId) ?? {};
      counts[result.limit] = (counts[result.limit] ?? 0) + 1;
      refused.set(turn.tenantId, counts);
      opts.onRefused?.(turn.tenantId, result.limit);
      return { ok: false, refusal: refusalOf(result, turn, t) };
    },
    usage: (tenantId, limits) => usage(tenantId, limits, now()),
    async overview(tenants) {
      const t = now();
      const [load, ...each] = await Promise.all([store.load(processId, t), ...tenants.map((x) => usage(x.tenantId, x.limits, t))]);
      return {
        process: { inFlight: load.inFlight, maxInFlightTurns: maxInFlight },
        deployment: { running: load.running, capacity: deploymentCapacity(load.workerBounds, maxRunning), liveWorkers: load.workerBounds.length, maxRunningTurns: maxRunning },
        byTenant: Object.fromEntries(tenants.map((x, i) => [x.tenantId, each[i]!])),
      };
    },
    async gauges() {
      const t = now();
      const tenants = [...seen].sort();
      const [load, ...budgets] = await Promise.all([store.load(processId, t), ...tenants.map((id) => store.usage(id, t))]);
      return {
        inFlight: load.inFlight,
        running: load.running,
        capacity: deploymentCapacity(load.workerBounds, maxRunning),
        budgets: tenants.map((tenant, i) => ({ tenant, tokens: budgets[i]!.tokensToday, costUsd: usd(budgets[i]!.costUsdToday) })),
      };
    },
  };
}

/** The workflow id of a turn's event stream key (`turn:{<workflow id>}:events`). */
function workflowIdOf(stream: string): string | null {
  return /^turn:\{(.+)\}:events$/.exec(stream)?.[1] ?? null;
}

/**
 * The bus, freeing a turn's admission when its terminal event is written (the first one: a retried or late
 * publish frees nothing twice) and adding its tokens and cost to its tenant's day. A failure to free is
 * logged, never the publisher's: the slot lapses after the turn's deadline anyway.
 */
export function releasingBus(bus: TurnEventBus, store: Pick<AdmissionStore, 'release'>, log?: { warn(obj: object, msg: string): void }, now: () => number = Date.now): TurnEventBus {
  return {
    publish: (stream, event, writer) => bus.publish(stream, event, writer),
    claim: (stream, writer) => bus.claim(stream, writer),
    exists: (stream) => bus.exists(stream),
    subscribe: (stream, afterId, o) => bus.subscribe(stream, afterId, o),
    close: () => bus.close(),
    async publishTerminal(stream, event, writer) {
      const id = await bus.publishTerminal(stream, event, writer);
      const workflowId = workflowIdOf(stream);
      if (id !== null && workflowId) {
        await store.release(workflowId, usageOf(event), now()).catch((err) => log?.warn({ err, workflowId }, 'could not free a finished turn’s admission (it lapses after the turn’s deadline)'));
      }
      return id;
    },
  };
}

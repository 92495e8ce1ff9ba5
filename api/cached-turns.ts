// Turns the API answers from a cache: stored at once (GET /v1/turns/:id finds them as soon as `done` is
// out), and recorded in Temporal in batches, one `recordCachedTurns` workflow per tenant and cache every
// HIT_RECORD_WINDOW_MS (or every HIT_RECORD_MAX turns), instead of a workflow per hit.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { insertTurn, type PersistTurnInput } from '../activities/session/store.ts';
import type { Queryable } from '../infra/db.ts';
import type { Logger } from '../infra/logger.ts';
import { type CachedTurnsRecord, TURN_TASK_QUEUE } from '../workflows/shared/contract.ts';
import { CacheOutcomeKey, TenantIdKey } from '../workflows/shared/search-attributes.ts';
import type { recordCachedTurns } from '../workflows/record-cached-turns.ts';

/** Stores and records the turns an API process answered from a cache. */
export interface CachedTurns {
  /** Stores the turn (awaited: a GET right after finds it) and queues it for the next Temporal record. */
  record(turn: PersistTurnInput & { cache: 'exact' | 'semantic' }): Promise<void>;
  /** Records every queued turn now (on shutdown). */
  flush(): Promise<void>;
}

export interface CachedTurnsOptions {
  appDb: Queryable;
  temporal: Pick<Client, 'workflow'>;
  taskQueue?: string;
  /** How long a batch waits for more turns (default 1000 ms). */
  windowMs?: number;
  /** A batch this long is recorded at once (default 200). */
  maxTurns?: number;
  eagerStart?: boolean;
  log?: Pick<Logger, 'warn'>;
}

/** Batches per tenant and cache, flushed by a timer (unref'd: it never keeps a process alive). */
export function createCachedTurns(opts: CachedTurnsOptions): CachedTurns {
  const windowMs = opts.windowMs ?? 1000;
  const maxTurns = opts.maxTurns ?? 200;
  const batches = new Map<string, CachedTurnsRecord>();
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  const start = (record: CachedTurnsRecord): void => {
    const started = opts.temporal.workflow
      .start<typeof recordCachedTurns>('recordCachedTurns', {
        taskQueue: opts.taskQueue ?? TURN_TASK_QUEUE,
        workflowId: `cached-turns-${record.tenantId}-${randomUUID()}`,
        args: [record],
        typedSearchAttributes: [
          { key: TenantIdKey, value: record.tenantId },
          { key: CacheOutcomeKey, value: record.cache },
        ],
        ...(opts.eagerStart ? { requestEagerStart: true } : {}),
      })
      .then(
        () => undefined,
        // The turns are stored and were answered: only their record in the Web UI is missing.
        (err) => opts.log?.warn({ err, tenantId: record.tenantId, turns: record.turns.length }, 'could not record cached turns in Temporal (they are stored)'),
      );
    inFlight.add(started);
    void started.finally(() => inFlight.delete(started));
  };

  const flushAll = (): void => {
    timer = undefined;
    for (const record of batches.values()) start(record);
    batches.clear();
  };

  return {
    async record(turn) {
      await insertTurn(opts.appDb, turn);
      const key = `${turn.tenantId}\n${turn.cache}`;
      let batch = batches.get(key);
      if (!batch) {
        batch = { tenantId: turn.tenantId, cache: turn.cache, turns: [] };
        batches.set(key, batch);
      }
      const r = turn.result;
      batch.turns.push({ turnId: r.turnId, sessionId: turn.sessionId, intent: r.intent, totalMs: r.timings.totalMs, at: Date.now(), ...(r.similarity !== undefined ? { similarity: r.similarity } : {}) });
      if (batch.turns.length >= maxTurns) {
        batches.delete(key);
        start(batch);
      } else if (!timer) {
        timer = setTimeout(flushAll, windowMs);
        timer.unref();
      }
    },
    async flush() {
      if (timer) clearTimeout(timer);
      flushAll();
      await Promise.all([...inFlight]);
    },
  };
}

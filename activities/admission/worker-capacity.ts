// A worker's bound on the turns it serves at once (WORKER_MAX_TURNS), advertised in the admission store for
// as long as the worker lives: a heartbeat renews it every few seconds and it lapses WORKER_BOUND_TTL_MS after
// the worker dies, so the API's deployment bound (limits.ts `deploymentCapacity`) is the sum of the live
// workers' bounds: it grows as workers are added and shrinks when one is gone, with no setting to update.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { AdmissionStore } from './limits.ts';

/** How often a worker renews its bound. */
export const WORKER_HEARTBEAT_MS = 3000;
/** How long a bound counts after its last renewal: three missed heartbeats, not a pause for a GC or a Redis blip. */
export const WORKER_BOUND_TTL_MS = 10_000;

/** A worker's advertised bound; `stop` takes it back (a worker that shuts down stops counting at once). */
export interface AdvertisedCapacity {
  readonly workerId: string;
  stop(): Promise<void>;
}

/**
 * Advertises `maxTurns` (0: this worker sets no bound, and the deployment has none from its workers) and
 * keeps it alive. The first registration is awaited, so a worker that starts is counted before it polls; a
 * failed renewal is logged and retried on the next beat (the bound lapses only if the failures last).
 */
export async function advertiseWorkerCapacity(
  store: Pick<AdmissionStore, 'registerWorker' | 'unregisterWorker'>,
  opts: { maxTurns: number; log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void }; now?: () => number; heartbeatMs?: number; ttlMs?: number },
): Promise<AdvertisedCapacity> {
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const now = opts.now ?? Date.now;
  const ttlMs = opts.ttlMs ?? WORKER_BOUND_TTL_MS;
  const beat = () => store.registerWorker(workerId, opts.maxTurns, now(), ttlMs);
  await beat();
  let failing = false;
  const timer = setInterval(() => {
    beat().then(
      () => {
        if (failing) opts.log?.info({ workerId }, 'worker capacity advertised again');
        failing = false;
      },
      (err) => {
        // Once per run of failures: a Redis outage must not flood the log.
        if (!failing) opts.log?.warn({ err, workerId }, 'could not renew this worker’s advertised capacity; retrying');
        failing = true;
      },
    );
  }, opts.heartbeatMs ?? WORKER_HEARTBEAT_MS);
  timer.unref();
  opts.log?.info({ workerId, maxTurns: opts.maxTurns || 'unbounded' }, 'worker capacity advertised');
  return {
    workerId,
    async stop() {
      clearInterval(timer);
      await store.unregisterWorker(workerId);
    },
  };
}

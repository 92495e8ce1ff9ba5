// Reaching a Temporal cluster: readiness, the turn's search attributes, the low-latency settings we
// recommend. Starting a dev server is the dev runtime's job (infra/dev/temporal-server.ts).
import type { ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/shared/contract.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

/** A reachable Temporal frontend, started by us or not. */
export interface TemporalHandle {
  address: string;
  namespace: string;
  /** Web UI, when known. */
  uiUrl?: string;
  /** How it was obtained, for logs. */
  source: 'external' | 'reused' | 'started' | 'sdk-download';
  stop(): Promise<void>;
}

/** Search attributes every turn uses; registered on the dev server or checked on a cluster. */
export const TURN_SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Bool'> = {
  [SEARCH_ATTRIBUTES.tenantId]: 'Keyword',
  [SEARCH_ATTRIBUTES.sessionId]: 'Keyword',
  [SEARCH_ATTRIBUTES.cacheOutcome]: 'Keyword',
  [SEARCH_ATTRIBUTES.intent]: 'Keyword',
  [SEARCH_ATTRIBUTES.fallbackUsed]: 'Bool',
};

// IndexedValueType in the Temporal API enum.
const INDEXED_VALUE_TYPE = { Keyword: 2, Bool: 5 } as const;

/**
 * Server settings for chat latency: one task-queue partition (no forwarding hops between a task and
 * its poller), eager activity dispatch (the worker that completes a workflow task starts the activity it
 * scheduled without a round trip through matching) and eager workflow start (a start request from a
 * client on a worker's connection gets the first workflow task in its reply). Recommended for clusters too (README).
 */
export const LOW_LATENCY_DYNAMIC_CONFIG = [
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
  'system.enableActivityEagerExecution=true',
  'system.enableEagerWorkflowStart=true',
  // Timer tasks (an activity's retry after its heartbeat timed out: a dead worker's answer) fire up to this
  // late; the default 1 s is most of a worker death's pause.
  'history.timerProcessorMaxTimeShift="100ms"',
];

/** Waits until a Temporal frontend answers GetSystemInfo. */
export async function waitForTemporal(address: string, timeoutMs = 60_000, child?: ChildProcess, namespace = 'default'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await conn.workflowService.getSystemInfo({});
        await conn.workflowService.describeNamespace({ namespace });
        // The frontend answers before the history shards are up ("shard status unknown" on the first
        // start): ask a shard about a workflow that does not exist; "not found" means it is serving.
        await conn.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: 'turnflow-readiness-probe' } }).catch((err: { code?: number }) => {
          if (err.code !== 5) throw err; // 5 = NOT_FOUND
        });
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Registers the turn's search attributes where they are missing (clusters we did not start). */
export async function ensureSearchAttributes(address: string, namespace: string, log: Logger): Promise<void> {
  const conn = await Connection.connect({ address });
  try {
    const existing = await conn.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.keys(TURN_SEARCH_ATTRIBUTES).filter((k) => !have.has(k));
    if (missing.length === 0) return;
    const searchAttributes = Object.fromEntries(missing.map((k) => [k, INDEXED_VALUE_TYPE[TURN_SEARCH_ATTRIBUTES[k]!]]));
    await conn.operatorService.addSearchAttributes({ namespace, searchAttributes });
    log.info({ added: missing }, 'registered search attributes');
  } catch (err) {
    log.warn({ err }, 'could not register search attributes; turns will not be searchable by tenant/session/cache until an operator adds them');
  } finally {
    await conn.close();
  }
}

/**
 * The configured Temporal (`TEMPORAL_ADDRESS`, or a dev server already listening on `TEMPORAL_DEV_PORT`),
 * once it serves, with the turn's search attributes registered. Never starts a server.
 */
export async function connectTemporal(config: Config, log: Logger, timeoutMs = 30_000): Promise<TemporalHandle> {
  const namespace = config.TEMPORAL_NAMESPACE;
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  await waitForTemporal(address, timeoutMs, undefined, namespace).catch((err: Error) => {
    const hint = config.TEMPORAL_ADDRESS ? '' : ' (TEMPORAL_ADDRESS is unset: start a dev server with `npm run temporal`, or use `npm start`)';
    throw new Error(`${err.message}${hint}`, { cause: err });
  });
  await ensureSearchAttributes(address, namespace, log);
  return { address, namespace, source: 'external', stop: async () => {} };
}

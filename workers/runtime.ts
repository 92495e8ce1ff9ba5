// Builds the real clients from the configuration: stores, cache and event bus, model providers,
// the Temporal worker. Entrypoints (dev.ts, worker.ts, api/main.ts) and tests compose these.
import path from 'node:path';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { DefaultLogger, NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { createPool, ensureDemoTenants, migrate, openAppStore, type Store } from '../infra/app-store.ts';
import type { Config } from '../infra/config.ts';
import { createMemoryExactCache, createRedisExactCache, type ExactCache } from '../infra/exact-cache.ts';
import { createAnthropicProvider } from '../infra/llm/anthropic-provider.ts';
import { createOpenAIProvider } from '../infra/llm/openai-provider.ts';
import type { ChatProvider, ProviderName } from '../infra/llm/provider.ts';
import type { Logger } from '../infra/logger.ts';
import { parseProfilesEnv, startOfflineModel, type OfflineModel } from '../infra/offline-model/server.ts';
import { DEMO_TENANTS, ensureTenantData } from '../infra/seed/demo-data.ts';
import { seedKnowledgeBase } from '../infra/seed/kb-documents.ts';
import { createMemoryTurnEventBus, createRedisTurnEventBus, type TurnEventBus } from '../infra/turn-events.ts';
import { TURN_TASK_QUEUE } from '../workflows/shared/contract.ts';

/** The app store and the tenant analytics store (the same pool unless TENANT_DATABASE_URL is set). */
export interface Stores {
  app: Store;
  tenantPool: pg.Pool;
  close(): Promise<void>;
}

/** Anchor day of the demo data: SEED_ANCHOR_DATE, or today (UTC midnight). */
export function seedAnchor(config: Config): Date {
  const day = config.SEED_ANCHOR_DATE ?? new Date().toISOString().slice(0, 10);
  return new Date(`${day}T00:00:00Z`);
}

/** Opens the stores, applies migrations, creates the demo tenants and seeds their data when empty. */
export async function openStores(config: Config, log: Logger, opts: { inMemory?: boolean; seed?: boolean } = {}): Promise<Stores> {
  const app = await openAppStore(config, log, opts);
  await migrate(app.pool, log);
  await ensureDemoTenants(app.pool, config);
  const tenantPool = config.TENANT_DATABASE_URL ? createPool(config.TENANT_DATABASE_URL, config.PG_POOL_MAX, false) : app.pool;
  if (opts.seed !== false) {
    for (const tenant of DEMO_TENANTS) await seedKnowledgeBase(app.pool, tenant);
    const started = Date.now();
    const seeded = await ensureTenantData(tenantPool, DEMO_TENANTS, {
      anchorDate: seedAnchor(config),
      onProgress: (p) => {
        if (p.done) log.info({ tenant: p.tenantId, table: p.table, rows: p.rows }, 'seeded');
      },
    });
    if (seeded.length) log.info({ tenants: seeded.map((s) => `${s.tenantId}: ${s.orders} orders`), ms: Date.now() - started }, 'demo tenant data seeded');
  }
  return {
    app,
    tenantPool,
    close: async () => {
      if (tenantPool !== app.pool) await tenantPool.end();
      await app.close();
    },
  };
}

/** Exact cache and turn event bus: Redis with REDIS_URL, in-process otherwise. */
export interface Messaging {
  cache: ExactCache;
  events: TurnEventBus;
  redis?: Redis;
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

/** Connects Redis (or builds the in-process equivalents). */
export async function openMessaging(config: Config, log: Logger): Promise<Messaging> {
  if (!config.REDIS_URL) {
    const events = createMemoryTurnEventBus(config.EVENT_STREAM_TTL_SECONDS);
    return { cache: createMemoryExactCache(), events, ping: async () => 'in-process', close: () => events.close() };
  }
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  await redis.connect();
  return {
    cache: createRedisExactCache(redis),
    events: createRedisTurnEventBus(redis, config.EVENT_STREAM_TTL_SECONDS),
    redis,
    ping: () => redis.ping(),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Answer providers, and the offline model when no key is set. */
export interface Providers {
  providers: Partial<Record<ProviderName, ChatProvider>>;
  offline?: OfflineModel;
  close(): Promise<void>;
}

/** Real providers for the keys that are set; with none, the offline model behind both SDKs. */
export async function openProviders(config: Config, log: Logger): Promise<Providers> {
  if (config.offline) {
    const offline = await startOfflineModel({
      port: config.OFFLINE_MODEL_PORT,
      profiles: parseProfilesEnv(config.OFFLINE_MODEL_PROFILES),
      logger: log,
    });
    log.warn({ url: offline.url }, 'no ANTHROPIC_API_KEY or OPENAI_API_KEY: answers come from the built-in OFFLINE MODEL (a deterministic rule engine, not an LLM)');
    return {
      providers: {
        anthropic: createAnthropicProvider({ apiKey: 'offline', baseURL: `${offline.url}/anthropic`, model: 'offline-model' }),
        openai: createOpenAIProvider({ apiKey: 'offline', baseURL: `${offline.url}/openai/v1`, model: 'offline-model' }),
      },
      offline,
      close: () => offline.close(),
    };
  }
  const providers: Partial<Record<ProviderName, ChatProvider>> = {};
  if (config.ANTHROPIC_API_KEY) {
    providers.anthropic = createAnthropicProvider({ apiKey: config.ANTHROPIC_API_KEY, baseURL: config.ANTHROPIC_BASE_URL, model: config.ANTHROPIC_MODEL });
  }
  if (config.OPENAI_API_KEY) {
    providers.openai = createOpenAIProvider({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, model: config.OPENAI_MODEL });
  }
  log.info({ providers: Object.keys(providers) }, 'model providers configured');
  return { providers, close: async () => {} };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per process (webpack takes a few seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(import.meta.dirname, '..', 'workflows', 'index.ts'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

/** A running worker and how to stop it. */
export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker stops. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Creates and runs the chat-turn worker against a Temporal frontend. */
export async function runWorker(opts: {
  address: string;
  namespace: string;
  deps: ActivityDeps;
  maxActivities: number;
  log: Logger;
  taskQueue?: string;
}): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TURN_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities(opts.deps),
    maxConcurrentActivityTaskExecutions: opts.maxActivities,
    maxConcurrentLocalActivityExecutions: opts.maxActivities,
    // Stream writes of a dead worker's activity are retried on another after the heartbeat timeout.
    shutdownGraceTime: '5 seconds',
  });
  const done = worker.run().finally(() => connection.close());
  opts.log.info({ taskQueue: opts.taskQueue ?? TURN_TASK_QUEUE }, 'worker polling');
  return {
    worker,
    done,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** Activity dependencies from opened services. */
export function activityDeps(config: Config, stores: Stores, messaging: Messaging, providers: Providers): ActivityDeps {
  return {
    cache: messaging.cache,
    events: messaging.events,
    appDb: stores.app.pool,
    providers: providers.providers,
    settings: { exactCacheTtlSeconds: config.EXACT_CACHE_TTL_SECONDS, historyWindowTurns: config.HISTORY_WINDOW_TURNS },
  };
}

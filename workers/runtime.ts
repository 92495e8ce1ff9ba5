// Builds the production clients from the configuration: stores, model providers, the Temporal worker.
// The production worker (worker.ts) composes these; `npm start` and tests add the dev runtime's embedded
// store and offline model through dev-runtime.ts. Nothing here loads the dev runtime (lint enforces it).
import path from 'node:path';
import type pg from 'pg';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../activities/index.ts';
import { indexTenantDocuments } from '../activities/knowledge/store.ts';
import { indexSqlExamples } from '../activities/sql/examples.ts';
import { ensureReaderRole } from '../activities/sql/executor.ts';
import { loadTenantSchema } from '../activities/sql/schema.ts';
import { guardSql } from '../activities/sql/sql-guard.ts';
import type { KvCache } from '../infra/kv-cache.ts';
import { tenantSettingsPatch } from '../activities/tenant/settings.ts';
import { createTenant, listTenants, storedTenantSettings, updateTenantSettings } from '../activities/tenant/store.ts';
import { ensureTenantData, seedTenantDocuments } from '../activities/tenant/templates.ts';
import { createPool, migrate, openDatabase, type Store } from '../infra/db.ts';
import { registerDevKey } from '../infra/api-keys.ts';
import { DEMO_TENANT_NAMES, DEMO_TENANT_SETTINGS, DEMO_TENANTS, DEV_ADMIN_KEY, DEV_KEYS } from '../infra/demo/demo-tenants.ts';
import { demoTemplates } from '../infra/demo/templates.ts';
import type { Config } from '../infra/config.ts';
import { createAnthropicProvider } from '../infra/llm/anthropic-provider.ts';
import type { Embedder } from '../infra/llm/embeddings.ts';
import { createOpenAIProvider } from '../infra/llm/openai-provider.ts';
import { createPriceTable } from '../infra/llm/pricing.ts';
import type { ChatProvider, ProviderName } from '../infra/llm/provider.ts';
import type { Logger } from '../infra/logger.ts';
import type { Telemetry, WorkerTracing } from '../infra/telemetry.ts';
import { embedderFor } from '../infra/llm/embedder-for.ts';
import { OFFLINE_MODEL_NAME } from '../infra/llm/pricing.ts';
import { STICKY_QUEUE_TIMEOUT, TURN_TASK_QUEUE } from '../workflows/shared/contract.ts';
import type { Messaging } from './messaging.ts';

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

/**
 * Opens the stores (the app store at DATABASE_URL, or the one given), applies migrations, creates the demo
 * tenants and seeds their data when empty.
 */
export async function openStores(config: Config, log: Logger, opts: { app?: Store; seed?: boolean } = {}): Promise<Stores> {
  if (!opts.app && !config.DATABASE_URL) throw new Error('DATABASE_URL is not set: a worker of its own needs the shared app store (Postgres with pgvector)');
  const app = opts.app ?? (await openDatabase(config.DATABASE_URL!, config.PG_POOL_MAX));
  await migrate(app.pool, log);
  await registerDemoTenants(app.pool, config);
  // A short connect timeout: a tenant database that is down costs an analytics turn its data, never a hang.
  const tenantPool = config.TENANT_DATABASE_URL ? createPool(config.TENANT_DATABASE_URL, config.PG_POOL_MAX, { connectTimeoutMs: config.TENANT_DB_CONNECT_TIMEOUT_MS }) : app.pool;
  if (opts.seed !== false) {
    for (const tenant of DEMO_TENANTS) await seedTenantDocuments(app.pool, tenant, demoTemplates, tenant);
    await seedDemoSettings(app.pool);
    const started = Date.now();
    const seeded = await ensureTenantData(tenantPool, DEMO_TENANTS, demoTemplates, {
      anchorDate: seedAnchor(config),
      onProgress: (p) => {
        if (p.done) log.info({ tenant: p.tenantId, table: p.table, rows: p.rows }, 'seeded');
      },
    });
    if (seeded.length) log.info({ tenants: seeded.map((s) => `${s.tenantId}: ${s.orders} orders`), ms: Date.now() - started }, 'demo tenant data seeded');
    // Generated SQL runs as each tenant's reader role: SELECT on its own schema, nothing else.
    for (const tenant of DEMO_TENANTS) await ensureReaderRole(tenantPool, tenant);
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

/** Creates the demo tenants; registers the dev keys (the tenants' and the admin's) only outside production. */
async function registerDemoTenants(pool: pg.Pool, config: Config): Promise<void> {
  const dev = config.NODE_ENV !== 'production';
  if (dev) await registerDevKey(pool, DEV_ADMIN_KEY, null);
  for (const [id, name] of Object.entries(DEMO_TENANT_NAMES)) {
    await createTenant(pool, id, name);
    const key = DEV_KEYS[id];
    if (dev && key) await registerDevKey(pool, key, id);
  }
}

/** Gives the demo tenants their demo settings (time zone, denied topics) once, when they have none. */
async function seedDemoSettings(pool: pg.Pool): Promise<void> {
  for (const [tenantId, patch] of Object.entries(DEMO_TENANT_SETTINGS)) {
    const stored = await storedTenantSettings(pool, tenantId);
    if (stored && Object.keys(stored).length === 0) await updateTenantSettings(pool, { delete: async () => {} }, tenantId, tenantSettingsPatch.parse(patch));
  }
}

/** Answer providers and the embedder. */
export interface Providers {
  providers: Partial<Record<ProviderName, ChatProvider>>;
  embedder: Embedder;
  /** Where the offline model answers, when no provider key is set. */
  offlineUrl?: string;
  close(): Promise<void>;
}

/**
 * Real providers for the keys that are set; with none, the offline model at `offlineUrl` (one this process
 * started: dev-runtime.ts) or OFFLINE_MODEL_URL (`npm run offline-model`, shared by split workers) behind both SDKs.
 */
export async function openProviders(config: Config, log: Logger, opts: { offlineUrl?: string } = {}): Promise<Providers> {
  if (config.offline) {
    const url = (opts.offlineUrl ?? config.OFFLINE_MODEL_URL)?.replace(/\/+$/, '');
    if (!url) {
      throw new Error(
        'no ANTHROPIC_API_KEY, OPENAI_API_KEY or OFFLINE_MODEL_URL: set a provider key, or point OFFLINE_MODEL_URL at `npm run offline-model` (`npm start` starts one itself)',
      );
    }
    log.warn({ url }, 'no ANTHROPIC_API_KEY or OPENAI_API_KEY: answers come from the built-in OFFLINE MODEL (a deterministic rule engine, not an LLM)');
    return {
      // Tier names as configured, so the offline model sees (and counts) what a real provider would be asked for.
      providers: {
        // Priced as what it is: a local rule engine costs nothing (done.listCostUsd prices the same tokens at the tier's list price).
        anthropic: createAnthropicProvider({ apiKey: 'offline', baseURL: `${url}/anthropic`, models: { fast: config.ANTHROPIC_FAST_MODEL, strong: config.ANTHROPIC_STRONG_MODEL }, priceAs: OFFLINE_MODEL_NAME }),
        openai: createOpenAIProvider({ apiKey: 'offline', baseURL: `${url}/openai/v1`, models: { fast: config.OPENAI_FAST_MODEL, strong: config.OPENAI_STRONG_MODEL }, priceAs: OFFLINE_MODEL_NAME }),
      },
      embedder: embedderFor(config, url),
      offlineUrl: url,
      close: async () => {},
    };
  }
  const providers: Partial<Record<ProviderName, ChatProvider>> = {};
  if (config.ANTHROPIC_API_KEY) {
    providers.anthropic = createAnthropicProvider({
      apiKey: config.ANTHROPIC_API_KEY,
      baseURL: config.ANTHROPIC_BASE_URL,
      models: { fast: config.ANTHROPIC_FAST_MODEL, strong: config.ANTHROPIC_STRONG_MODEL },
    });
  }
  if (config.OPENAI_API_KEY) {
    providers.openai = createOpenAIProvider({ apiKey: config.OPENAI_API_KEY, baseURL: config.OPENAI_BASE_URL, models: { fast: config.OPENAI_FAST_MODEL, strong: config.OPENAI_STRONG_MODEL } });
  }
  const embedder = embedderFor(config);
  log.info({ providers: Object.keys(providers), embedder: embedder.model }, 'model providers configured');
  return { providers, embedder, close: async () => {} };
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The failure converter's module (messages and stack traces encoded, so the codec encrypts them). */
export const FAILURE_CONVERTER_PATH = path.join(import.meta.dirname, '..', 'workflows', 'shared', 'failure-converter.ts');

/**
 * The workflow bundle, built once per process (webpack takes a few seconds); with tracing, Temporal's workflow
 * interceptors are bundled in (they add no command, so either bundle replays the other's histories).
 * `workflowsPath`: another workflows module than workflows/index.ts (`npm run replay -- --workflows`).
 */
export function workflowBundle(tracing?: Pick<WorkerTracing, 'workflowInterceptorModules'>, workflowsPath = path.join(import.meta.dirname, '..', 'workflows', 'index.ts')): Promise<WorkflowBundleWithSourceMap> {
  const interceptorModules = tracing?.workflowInterceptorModules ?? [];
  const key = `${workflowsPath}|${interceptorModules.join(',')}`;
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: interceptorModules,
      failureConverterPath: FAILURE_CONVERTER_PATH,
      logger: new DefaultLogger('WARN'),
    });
    bundles.set(key, bundle);
  }
  return bundle;
}

/** A running worker and how to stop it. */
export interface RunningWorker {
  worker: Worker;
  /** The worker's connection: a client on it can start turns eagerly (the first workflow task runs here, no dispatch round trip). */
  connection: NativeConnection;
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
  /** The payload codec (infra/payload-keys.ts): every payload the worker sends is encrypted, every one it reads decrypted. */
  codec: PayloadCodec;
  taskQueue?: string;
  /** Replaces some activities (tests stub a step to drive a branch, as Temporal's samples do). */
  overrides?: Partial<Activities>;
  /** Tracing (infra/telemetry.ts): when on, spans for the workflows, the activities and every model call. */
  telemetry?: Telemetry;
}): Promise<RunningWorker> {
  const tracing = opts.telemetry?.worker;
  const deps = opts.telemetry?.enabled
    ? { ...opts.deps, providers: opts.telemetry.traceProviders(opts.deps.providers), embedder: opts.telemetry.traceEmbedder(opts.deps.embedder) }
    : opts.deps;
  const connection = await NativeConnection.connect({ address: opts.address });
  const worker = await Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue ?? TURN_TASK_QUEUE,
    workflowBundle: await workflowBundle(tracing),
    dataConverter: { payloadCodecs: [opts.codec], failureConverterPath: FAILURE_CONVERTER_PATH },
    ...(tracing ? { interceptors: { activity: tracing.activityInterceptors }, sinks: tracing.sinks } : {}),
    activities: { ...createActivities(deps), ...opts.overrides },
    maxConcurrentActivityTaskExecutions: opts.maxActivities,
    maxConcurrentLocalActivityExecutions: opts.maxActivities,
    // A dead worker's next workflow task moves to the shared queue after this, instead of Temporal's 10 s.
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    // Every heartbeat of the answer (one per 400 ms) reaches Temporal, instead of one per 0.8 × its timeout:
    // a dead worker's answer is continued by another within its 1 s heartbeat timeout.
    maxHeartbeatThrottleInterval: '400 ms',
    shutdownGraceTime: '5 seconds',
  });
  const done = worker.run().finally(() => connection.close());
  opts.log.info({ taskQueue: opts.taskQueue ?? TURN_TASK_QUEUE }, 'worker polling');
  return {
    worker,
    connection,
    done,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** Activity dependencies from opened services; `metrics` is the process's registry (turns are counted there). */
export function activityDeps(config: Config, stores: Stores, messaging: Messaging, providers: Providers, metrics?: ActivityDeps['metrics']): ActivityDeps {
  return {
    kv: messaging.kv,
    events: messaging.events,
    appDb: stores.app.pool,
    tenantDb: stores.tenantPool,
    providers: providers.providers,
    embedder: providers.embedder,
    prices: createPriceTable(config.MODEL_PRICES),
    settings: {
      historyWindowTurns: config.HISTORY_WINDOW_TURNS,
      historyWindowTokens: config.HISTORY_WINDOW_TOKENS,
      gatherTimeoutMs: config.GATHER_TIMEOUT_MS,
      understandingTimeoutMs: config.UNDERSTANDING_TIMEOUT_MS,
      understandingProvider: config.UNDERSTANDING_PROVIDER ?? (config.offline || config.ANTHROPIC_API_KEY ? 'anthropic' : 'openai'),
      embeddingTimeoutMs: config.EMBEDDING_TIMEOUT_MS,
      sqlTimeoutMs: config.SQL_STATEMENT_TIMEOUT_MS,
      sqlMaxRows: config.SQL_MAX_ROWS,
      sqlMaxAttempts: config.SQL_MAX_ATTEMPTS,
    },
    templates: demoTemplates,
    now: Date.now,
    ...(metrics ? { metrics } : {}),
  };
}

/**
 * Warms what turns read at start, in the background (first turns do not wait; each of these is also
 * loaded on demand): every tenant's changed documents indexed, the SQL examples embedded, every tenant's
 * schema cached for the SQL agent.
 */
export function warmUpInBackground(stores: Stores, kv: KvCache, embedder: Embedder, log: Logger): Promise<void> {
  return (async () => {
    const started = Date.now();
    const pool = stores.app.pool;
    const rows = await listTenants(pool);
    let documents = 0;
    for (const { id } of rows) documents += await indexTenantDocuments(pool, embedder, id);
    await indexSqlExamples(pool, embedder);
    for (const { id } of rows) await loadTenantSchema({ tenantDb: stores.tenantPool, appDb: pool, kv }, id);
    // The SQL parser compiles its WASM on first use (~150 ms): pay that here, not in the first analytics turn.
    await guardSql('SELECT 1', { tenantSchema: 'warmup', allowedTables: [], maxRows: 1 });
    log.info({ documents, tenants: rows.length, ms: Date.now() - started }, 'warmed up: knowledge indexed, SQL examples embedded, schemas cached, SQL parser loaded');
  })().catch((err) => log.warn({ err }, 'background warm-up failed; turns will load what they need on demand'));
}

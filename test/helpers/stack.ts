// A real stack for integration and e2e tests: the run's Temporal dev server (test/run.ts starts it,
// or this starts one), Redis and PostgreSQL on the machine, PGlite as the app store, the offline model
// behind the real SDKs, a worker on its own task queue, and optionally the HTTP API.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { Activities, ActivityDeps } from '../../activities/index.ts';
import { createAdmission } from '../../activities/admission/admission.ts';
import { advertiseWorkerCapacity } from '../../activities/admission/worker-capacity.ts';
import { createRedisKvCache } from '../../infra/kv-cache.ts';
import { createApp } from '../../api/app.ts';
import { createTenantKeyStore } from '../../api/auth.ts';
import { createChartUrlSigner, type ChartUrlSigner } from '../../api/chart-urls.ts';
import { listen } from '../../api/server.ts';
import { loadConfig, type Config } from '../../infra/config.ts';
import { createLogger, type Logger } from '../../infra/logger.ts';
import { createMetrics, type Metrics } from '../../infra/metrics.ts';
import type { Telemetry } from '../../infra/telemetry.ts';
import type { ProviderProfile } from '../../infra/dev/offline-model/server.ts';
import { freePort, startTemporal } from '../../infra/dev/temporal-server.ts';
import type { TemporalHandle } from '../../infra/temporal.ts';
import { ensureTenantData } from '../../activities/tenant/templates.ts';
import { DEMO_TENANTS } from '../../infra/demo/demo-tenants.ts';
import { demoTemplates } from '../../infra/demo/templates.ts';
import { openMessaging, type Messaging } from '../../workers/messaging.ts';
import { openDevProviders, openDevStores, type DevProviders } from '../../workers/dev-runtime.ts';
import { activityDeps, runWorker, type RunningWorker, type Stores } from '../../workers/runtime.ts';
import { installTemporalRuntime } from '../../workers/temporal-runtime.ts';
import { createPayloadCodec } from '../../infra/payload-codec.ts';
import { codecUiToken } from '../../infra/payload-keys.ts';
import { TEST_PAYLOAD_KEYS } from './test-payload-keys.ts';

/** Pinned so the seeded tenant data (and anything computed from it) is the same every run. */
export const TEST_ANCHOR_DATE = '2026-06-30';
/** The test stacks' chart URL key (a stack's env may set CHART_URL_SECRET instead). */
export const TEST_CHART_URL_SECRET = 'test-chart-url-secret-0123456789abcdef';
/** Tenant analytics data lives in this database on the machine's PostgreSQL, seeded once and reused. */
export const TEST_TENANT_DB = 'turnflow_test_tenants';
export const MACHINE_PG = 'postgres://postgres@127.0.0.1:5432';

let temporalHandle: Promise<TemporalHandle> | undefined;

/** The run's Temporal (TEMPORAL_ADDRESS from test/run.ts) or one started for this file. */
export function testTemporal(log: Logger): Promise<TemporalHandle> {
  temporalHandle ??= (async () => {
    const config = loadConfig({ ...process.env });
    if (config.TEMPORAL_ADDRESS) return startTemporal(config, log);
    return startTemporal(config, log, { inMemory: true, headless: true, port: await freePort() });
  })();
  return temporalHandle;
}

/** Creates the tenant-data database on the machine's Postgres if it is missing. */
export async function ensureTenantDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: `${MACHINE_PG}/postgres` });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEST_TENANT_DB]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${TEST_TENANT_DB}`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created by a concurrent test file
    });
  } finally {
    await admin.end();
  }
  return `${MACHINE_PG}/${TEST_TENANT_DB}`;
}

/** The tenant-data database with the demo tenants' data (seeded here when no stack has seeded it yet). */
export async function seededTenantDatabase(): Promise<string> {
  const url = await ensureTenantDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await ensureTenantData(pool, DEMO_TENANTS, demoTemplates, { anchorDate: new Date(`${TEST_ANCHOR_DATE}T00:00:00Z`) });
  } finally {
    await pool.end();
  }
  return url;
}

/** Configuration of a test stack: real Redis and Postgres, embedded PGlite app store, offline model. */
export async function testConfig(env: Record<string, string> = {}): Promise<Config> {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    REDIS_URL: 'redis://127.0.0.1:6379',
    TENANT_DATABASE_URL: await ensureTenantDatabase(),
    SEED_ANCHOR_DATE: TEST_ANCHOR_DATE,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    // TEST ONLY key: the recorded histories are encrypted with it.
    PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    ...env,
  });
}

export interface TestStack {
  config: Config;
  /** The stack's payload codec (PAYLOAD_KEYS): its client and workers encrypt with it. */
  codec: PayloadCodec;
  log: Logger;
  temporal: TemporalHandle;
  client: Client;
  stores: Stores;
  messaging: Messaging;
  providers: DevProviders;
  /** One registry for the stack's workers and API, as `npm start` has. */
  metrics: Metrics;
  worker?: RunningWorker;
  /** Base URL of the API when started with `api: true`. */
  apiUrl?: string;
  /** The API's chart URL signer (CHART_URL_SECRET of the stack's config, or a test key). */
  chartUrls: ChartUrlSigner;
  setProfile(provider: 'anthropic' | 'openai', p: Partial<ProviderProfile>): void;
  /** Runs `fn` with a worker of these activity overrides on its own task queue (the stack's real clients otherwise). */
  withWorker<T>(overrides: Partial<Activities>, fn: (taskQueue: string) => Promise<T>, settings?: Partial<ActivityDeps['settings']>): Promise<T>;
  close(): Promise<void>;
}

/** Starts a stack; `worker: false` leaves the task queue without a worker (tests start their own); `telemetry` traces its API, worker and client. */
export async function startStack(
  opts: { env?: Record<string, string>; worker?: boolean; api?: boolean; profiles?: string; overrides?: Partial<Activities>; telemetry?: Telemetry } = {},
): Promise<TestStack> {
  installTemporalRuntime();
  const env = { OFFLINE_MODEL_PROFILES: opts.profiles ?? '{"anthropic":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0},"openai":{"ttftMs":0,"tokensPerSec":0,"jitterMs":0}}', ...opts.env };
  const config = await testConfig(env);
  const log = createLogger(config.LOG_LEVEL, 'test-stack');
  const temporal = await testTemporal(log);
  // Each stack counts its admissions under a prefix of its own, as a deployment of its own: concurrent test
  // files (and earlier runs' budgets on the machine's Redis) never refuse each other's turns.
  const admissionPrefix = `test:admit:${randomUUID().slice(0, 8)}:`;
  const [stores, messaging, providers] = await Promise.all([
    openDevStores(config, log, { inMemory: true }),
    openMessaging(config, log, { admissionPrefix }),
    openDevProviders(config, log),
  ]);
  // Redis outlives test runs while each stack's app store is new: forget what earlier stacks cached
  // (answers, tenant settings and generations), or they would leak into this one's turns.
  for (const prefix of ['exact:v2:', 'tenant:v1:', 'profile:v1:', 'schema:v2:', 'kb:v1:', 'result:v1:']) await messaging.kv.deletePrefix(prefix);
  const codec = createPayloadCodec(config.PAYLOAD_KEYS!);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: { payloadCodecs: [codec] }, interceptors: opts.telemetry?.clientInterceptors });
  const closers: (() => Promise<unknown>)[] = [() => connection.close(), () => stores.close(), () => messaging.close(), () => providers.close()];
  if (messaging.redis) {
    const keys = createRedisKvCache(messaging.redis);
    closers.push(() => keys.deletePrefix(admissionPrefix));
  }
  const metrics = createMetrics();
  let worker: RunningWorker | undefined;
  if (opts.worker !== false) {
    const capacity = await advertiseWorkerCapacity(messaging.admission, { maxTurns: config.WORKER_MAX_TURNS });
    closers.push(() => capacity.stop());
    worker = await runWorker({
      address: temporal.address,
      namespace: temporal.namespace,
      deps: activityDeps(config, stores, messaging, providers, metrics),
      maxActivities: 50,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      log,
      codec,
      overrides: opts.overrides,
      telemetry: opts.telemetry,
    });
    closers.push(() => worker!.shutdown());
  }
  const chartUrls = createChartUrlSigner({ secret: config.CHART_URL_SECRET ?? TEST_CHART_URL_SECRET, ttlSeconds: config.CHART_URL_TTL_SECONDS });
  let apiUrl: string | undefined;
  if (opts.api) {
    const admission = createAdmission({ store: messaging.admission, maxInFlight: config.MAX_INFLIGHT_TURNS, maxRunning: config.MAX_RUNNING_TURNS, onRefused: metrics.recordRefusal });
    metrics.observeAdmission(admission);
    const app = createApp({
      temporal: client,
      events: messaging.events,
      appDb: stores.app.pool,
      kv: messaging.kv,
      embedder: opts.telemetry?.traceEmbedder(providers.embedder) ?? providers.embedder,
      tenantDb: stores.tenantPool,
      sqlLimits: { statementTimeoutMs: config.SQL_STATEMENT_TIMEOUT_MS, maxRows: config.SQL_MAX_ROWS },
      keys: createTenantKeyStore(stores.app.pool, { production: false }),
      chartUrls,
      log,
      pingEvents: messaging.ping,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      seedAnchorDate: config.SEED_ANCHOR_DATE,
      sseIdleMs: 1000,
      metrics,
      admission,
      codec: { codec, uiToken: codecUiToken(config, config.PAYLOAD_KEYS!), corsOrigins: config.CODEC_CORS_ORIGINS },
      ...(config.TEMPORAL_UI_URL ? { temporalUi: { url: config.TEMPORAL_UI_URL, namespace: temporal.namespace } } : {}),
    });
    const api = await listen(app, 0, '127.0.0.1');
    apiUrl = `http://127.0.0.1:${api.port}`;
    closers.push(() => api.close());
  }
  return {
    config,
    codec,
    log,
    temporal,
    client,
    stores,
    messaging,
    providers,
    metrics,
    worker,
    apiUrl,
    chartUrls,
    setProfile: (provider, p) => providers.offline?.setProfile(provider, p),
    withWorker: async (overrides, fn, settings = {}) => {
      const taskQueue = `test-${randomUUID()}`;
      const base = activityDeps(config, stores, messaging, providers, metrics);
      const deps = { ...base, settings: { ...base.settings, ...settings } };
      const w = await runWorker({ address: temporal.address, namespace: temporal.namespace, deps, maxActivities: 20, taskQueue, log, codec, overrides });
      try {
        return await fn(taskQueue);
      } finally {
        await w.shutdown();
      }
    },
    close: async () => {
      for (const close of closers.reverse()) await close().catch(() => {});
    },
  };
}

/** A message no earlier run has cached. */
export function fresh(message: string): string {
  return `${message} [${randomUUID().slice(0, 8)}]`;
}

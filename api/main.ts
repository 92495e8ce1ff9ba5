// `npm run api`: one stateless API process. Run N of them behind a load balancer. It loads no worker code:
// no Temporal worker, no chat-model clients (only the embedder, for the semantic lookup it makes before starting
// a turn), no offline model, no seeding.
import { Client, Connection } from '@temporalio/client';
import { createAdmission, releasingBus } from '../activities/admission/admission.ts';
import { createRedisAdmissionStore } from '../activities/admission/redis-store.ts';
import { createTurnEventBus } from '../activities/turn-events/bus.ts';
import { createPool, migrate, openDatabase } from '../infra/db.ts';
import { createRedisKvCache } from '../infra/kv-cache.ts';
import { embedderFor } from '../infra/llm/embedder-for.ts';
import { createMetrics } from '../infra/metrics.ts';
import { chartUrlSecretOrExit, loadProcessConfig, onShutdown } from '../infra/process-entry.ts';
import { closeRedis, connectRedis } from '../infra/redis.ts';
import { codecUiToken, resolvePayloadKeys } from '../infra/payload-keys.ts';
import { startTelemetry } from '../infra/telemetry.ts';
import { connectTemporal } from '../infra/temporal.ts';
import { createApp } from './app.ts';
import { createCachedTurns } from './cached-turns.ts';
import { createChartUrlSigner } from './chart-urls.ts';
import { createTenantKeyStore } from './auth.ts';
import { listen } from './server.ts';

const { config, log } = loadProcessConfig('api');
const chartUrls = createChartUrlSigner({ secret: chartUrlSecretOrExit(config), ttlSeconds: config.CHART_URL_TTL_SECONDS });
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);
try {
  // First in, last out: the spans of everything that stops after it are flushed on SIGTERM.
  const telemetry = await startTelemetry({ config, service: 'turnflow-api', log });
  closers.push(() => telemetry.shutdown());
  const payloadKeys = resolvePayloadKeys(config, log);
  const temporal = await connectTemporal(config, log);
  const connection = await Connection.connect({ address: temporal.address });
  closers.push(() => connection.close());
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: { payloadCodecs: [payloadKeys.codec] },
    interceptors: telemetry.clientInterceptors,
  });
  const appStore = await openDatabase(config.DATABASE_URL!, config.PG_POOL_MAX);
  closers.push(() => appStore.close());
  await migrate(appStore.pool, log);
  // Feedback's corrected SQL runs against the tenant's data (read-only, as its reader role) before it is kept:
  // a small pool, opened lazily by pg, with the workers' short connect timeout.
  const tenantDb = config.TENANT_DATABASE_URL ? createPool(config.TENANT_DATABASE_URL, 2, { connectTimeoutMs: config.TENANT_DB_CONNECT_TIMEOUT_MS }) : appStore.pool;
  if (tenantDb !== appStore.pool) closers.push(() => tenantDb.end());
  // Caches and admission fail fast while Redis is down; the event bus waits (an outage is a pause for a stream).
  const [redis, eventsRedis] = await Promise.all([
    connectRedis(config.REDIS_URL!, log, { name: 'commands' }),
    connectRedis(config.REDIS_URL!, log, { name: 'events', queueWhileDown: true }),
  ]);
  closers.push(() => closeRedis(redis), () => closeRedis(eventsRedis));
  const admissionStore = createRedisAdmissionStore(redis);
  const metrics = createMetrics({ turnLog: log });
  const cachedTurns = createCachedTurns({ appDb: appStore.pool, temporal: client, taskQueue: config.TEMPORAL_TASK_QUEUE, windowMs: config.HIT_RECORD_WINDOW_MS, log });
  closers.push(() => cachedTurns.flush());
  // This process's in-flight bound; the deployment's is the live workers' advertised sum (WORKER_MAX_TURNS).
  const admission = createAdmission({ store: admissionStore, maxInFlight: config.MAX_INFLIGHT_TURNS, maxRunning: config.MAX_RUNNING_TURNS, onRefused: metrics.recordRefusal });
  metrics.observeAdmission(admission);
  const app = createApp({
    cachedTurns,
    temporal: client,
    // Writing a turn's terminal event (a cache hit answered here) frees its admission.
    events: releasingBus(createTurnEventBus(eventsRedis, config.EVENT_STREAM_TTL_SECONDS), admissionStore, log),
    admission,
    appDb: appStore.pool,
    kv: createRedisKvCache(redis),
    // The workers' embedder (same configuration, same vectors): semantic hits are answered here.
    embedder: telemetry.traceEmbedder(embedderFor(config, config.OFFLINE_MODEL_URL?.replace(/\/+$/, ''))),
    embeddingTimeoutMs: config.EMBEDDING_TIMEOUT_MS,
    tenantDb,
    sqlLimits: { statementTimeoutMs: config.SQL_STATEMENT_TIMEOUT_MS, maxRows: config.SQL_MAX_ROWS },
    keys: createTenantKeyStore(appStore.pool, { production: config.NODE_ENV === 'production' }),
    chartUrls,
    publicUrl: config.PUBLIC_URL,
    chatCorsOrigins: config.CHAT_CORS_ORIGINS,
    log,
    pingEvents: () => redis.ping(),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    seedAnchorDate: config.SEED_ANCHOR_DATE,
    runtime: { deployment: 'split', services: { redis: true, postgres: true }, ...(config.OFFLINE_MODEL_URL ? { offlineModelUrl: config.OFFLINE_MODEL_URL } : {}) },
    // This process's own registry: HTTP and process metrics, refusals (turns are counted by the workers, on METRICS_PORT).
    metrics,
    metricsToken: config.METRICS_TOKEN,
    codec: { codec: payloadKeys.codec, uiToken: codecUiToken(config, payloadKeys.keys), corsOrigins: config.CODEC_CORS_ORIGINS },
    // The chat page links each turn to the operators' Web UI when one is configured.
    ...(config.TEMPORAL_UI_URL ? { temporalUi: { url: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE } } : {}),
  });
  const api = await listen(app, config.PORT, config.HOST);
  closers.push(() => api.close());
  log.info({ url: `http://${config.HOST}:${api.port}` }, 'API listening');
} catch (err) {
  log.fatal({ err }, 'API failed to start');
  await stop(1);
}

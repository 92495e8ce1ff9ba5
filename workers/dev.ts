// `npm start`: the whole product in one process tree for a newcomer: Temporal dev server (with Web UI),
// embedded PGlite store, in-process cache and event bus (or Redis with REDIS_URL), offline model, worker, API.
import { Client } from '@temporalio/client';
import { createAdmission } from '../activities/admission/admission.ts';
import { advertiseWorkerCapacity } from '../activities/admission/worker-capacity.ts';
import { createApp } from '../api/app.ts';
import { createCachedTurns } from '../api/cached-turns.ts';
import { createChartUrlSigner } from '../api/chart-urls.ts';
import { createTenantKeyStore } from '../api/auth.ts';
import { listen } from '../api/server.ts';
import { DEV_ADMIN_KEY, DEV_KEYS } from '../infra/demo/demo-tenants.ts';
import { createMetrics } from '../infra/metrics.ts';
import { devUiCodecEndpoint, startTemporal } from '../infra/dev/temporal-server.ts';
import { codecUiToken, resolvePayloadKeys } from '../infra/payload-keys.ts';
import { chartUrlSecretOrExit, loadConfigOrExit, onShutdown } from '../infra/process-entry.ts';
import { startTelemetry, tracesUrl } from '../infra/telemetry.ts';
import { openMessaging } from './messaging.ts';
import { openDevProviders, openDevStores } from './dev-runtime.ts';
import { activityDeps, warmUpInBackground, runWorker } from './runtime.ts';
import { installTemporalRuntime } from './temporal-runtime.ts';

const bootStarted = Date.now();
const { config, log } = loadConfigOrExit('turnflow');
const chartUrls = createChartUrlSigner({ secret: chartUrlSecretOrExit(config), ttlSeconds: config.CHART_URL_TTL_SECONDS });
installTemporalRuntime();
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);

try {
  // First in, last out: the spans of everything that stops after it are flushed on SIGTERM.
  const telemetry = await startTelemetry({ config, service: 'turnflow', log });
  closers.push(() => telemetry.shutdown());
  const payloadKeys = resolvePayloadKeys(config, log);
  // The embedded Web UI decodes payloads through this process's API (its codec endpoint, Web UI token path).
  const uiCodecEndpoint = devUiCodecEndpoint(config, payloadKeys.keys);
  const [temporal, stores, messaging, providers] = await Promise.all([
    startTemporal(config, log, { uiCodecEndpoint }),
    openDevStores(config, log),
    openMessaging(config, log),
    openDevProviders(config, log, { ownProcess: true }),
  ]);
  closers.push(() => temporal.stop(), () => stores.close(), () => messaging.close(), () => providers.close());
  // One registry for worker and API: the API's /metrics shows this process's turns too.
  const metrics = createMetrics({ turnLog: log });

  // The one worker's bound is the deployment's (MAX_INFLIGHT_TURNS, this process's own, is usually the lower).
  const capacity = await advertiseWorkerCapacity(messaging.admission, { maxTurns: config.WORKER_MAX_TURNS, log });
  closers.push(() => capacity.stop());
  const worker = await runWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    deps: activityDeps(config, stores, messaging, providers, metrics),
    maxActivities: config.WORKER_MAX_ACTIVITIES,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    log,
    codec: payloadKeys.codec,
    telemetry,
  });
  closers.push(() => worker.shutdown());
  void warmUpInBackground(stores, messaging.kv, providers.embedder, log);
  worker.done.catch((err) => {
    log.error({ err }, 'worker stopped');
    void stop(1);
  });

  // The API's client rides on the worker's connection, so turns start eagerly: the server hands the first
  // workflow task back in the start reply instead of dispatching it (about 25 ms less per turn, measured).
  const client = new Client({
    connection: worker.connection,
    namespace: temporal.namespace,
    dataConverter: { payloadCodecs: [payloadKeys.codec] },
    interceptors: telemetry.clientInterceptors,
  });
  const cachedTurns = createCachedTurns({ appDb: stores.app.pool, temporal: client, taskQueue: config.TEMPORAL_TASK_QUEUE, eagerStart: true, windowMs: config.HIT_RECORD_WINDOW_MS, log });
  closers.push(() => cachedTurns.flush());
  const admission = createAdmission({ store: messaging.admission, maxInFlight: config.MAX_INFLIGHT_TURNS, maxRunning: config.MAX_RUNNING_TURNS, onRefused: metrics.recordRefusal });
  metrics.observeAdmission(admission);
  const uiUrl = config.TEMPORAL_UI_URL ?? temporal.uiUrl;
  const app = createApp({
    cachedTurns,
    // API and worker in one process: its bound counts every turn it runs, a stream's or a 202's.
    admission,
    temporal: client,
    events: messaging.events,
    appDb: stores.app.pool,
    kv: messaging.kv,
    embedder: telemetry.traceEmbedder(providers.embedder),
    embeddingTimeoutMs: config.EMBEDDING_TIMEOUT_MS,
    tenantDb: stores.tenantPool,
    sqlLimits: { statementTimeoutMs: config.SQL_STATEMENT_TIMEOUT_MS, maxRows: config.SQL_MAX_ROWS },
    keys: createTenantKeyStore(stores.app.pool, { production: config.NODE_ENV === 'production' }),
    chartUrls,
    publicUrl: config.PUBLIC_URL,
    chatCorsOrigins: config.CHAT_CORS_ORIGINS,
    log,
    pingEvents: messaging.ping,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    eagerStart: true,
    seedAnchorDate: config.SEED_ANCHOR_DATE,
    runtime: { deployment: 'single-process', services: { redis: Boolean(messaging.redis), postgres: Boolean(config.DATABASE_URL || config.TENANT_DATABASE_URL) }, ...(providers.offlineUrl ? { offlineModelUrl: providers.offlineUrl } : {}) },
    metrics,
    metricsToken: config.METRICS_TOKEN,
    codec: { codec: payloadKeys.codec, uiToken: codecUiToken(config, payloadKeys.keys), corsOrigins: config.CODEC_CORS_ORIGINS },
    // The chat page links each turn to the Web UI this process started (or the one TEMPORAL_UI_URL names).
    ...(uiUrl ? { temporalUi: { url: uiUrl, namespace: temporal.namespace } } : {}),
  });
  const api = await listen(app, config.PORT, config.HOST);
  closers.push(() => api.close());

  const apiUrl = `http://${config.HOST}:${api.port}`;
  const webUiCodec = !uiCodecEndpoint
    ? 'Web UI codec off (PORT=0 or CODEC_CORS_ORIGINS=none)'
    : temporal.source === 'started' || temporal.source === 'sdk-download'
      ? 'the Web UI decodes them through the API'
      : 'give your Web UI the codec endpoint (npm run codec-endpoint)';
  const lines = [
    '',
    `  turnflow is up in ${((Date.now() - bootStarted) / 1000).toFixed(1)} s`,
    `  Chat page      ${apiUrl}/`,
    `  API            ${apiUrl}   (metrics ${apiUrl}/metrics)`,
    `  Temporal UI    ${temporal.uiUrl ?? '(external cluster: use its own UI)'}   (gRPC ${temporal.address})`,
    `  App store      ${stores.app.embedded ? `PGlite + pgvector at ${stores.app.url}` : 'DATABASE_URL'}`,
    `  Cache, events  ${messaging.redis ? 'Redis (REDIS_URL)' : 'in-process'}`,
    `  Payloads       encrypted in Temporal (${payloadKeys.source === 'env' ? 'PAYLOAD_KEYS' : `development key in ${payloadKeys.file}`}); ${webUiCodec}`,
    `  Traces         ${telemetry.enabled ? `OTLP to ${tracesUrl(config)}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector)'}`,
    `  Models         ${providers.offlineUrl ? `OFFLINE MODEL at ${providers.offlineUrl} (rule engine, not an LLM)` : Object.keys(providers.providers).join(', ')}`,
    ...(config.NODE_ENV !== 'production' ? [`  Dev keys       acme: ${DEV_KEYS.acme}   globex: ${DEV_KEYS.globex}   admin (GET /v1/stats): ${DEV_ADMIN_KEY}`] : []),
    '',
    '  Try:',
    `  curl -N ${apiUrl}/v1/turns -H 'Authorization: Bearer ${DEV_KEYS.acme}' -H 'Content-Type: application/json' \\`,
    `       -H 'Accept: text/event-stream' -d '{"sessionId":"demo","message":"Hello! What can you do?"}'`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
} catch (err) {
  log.fatal({ err }, 'start-up failed');
  await stop(1);
}

// `npm run worker`: one chat-turn worker process. Run N of them against one Temporal cluster.
import { advertiseWorkerCapacity } from '../activities/admission/worker-capacity.ts';
import { probeAll } from '../infra/health.ts';
import { createMetrics, serveMetrics } from '../infra/metrics.ts';
import { resolvePayloadKeys } from '../infra/payload-keys.ts';
import { startTelemetry } from '../infra/telemetry.ts';
import { connectTemporal } from '../infra/temporal.ts';
import { loadProcessConfig, onShutdown } from '../infra/process-entry.ts';
import { openMessaging } from './messaging.ts';
import { activityDeps, warmUpInBackground, openProviders, openStores, runWorker } from './runtime.ts';
import { installTemporalRuntime } from './temporal-runtime.ts';

const { config, log } = loadProcessConfig('worker');
installTemporalRuntime();
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);
try {
  // First in, last out: the spans of the worker's last activities are flushed on SIGTERM.
  const telemetry = await startTelemetry({ config, service: 'turnflow-worker', log });
  closers.push(() => telemetry.shutdown());
  const { codec } = resolvePayloadKeys(config, log);
  // First, so a missing provider key (or OFFLINE_MODEL_URL) is said at once, before anything is waited for.
  const providers = await openProviders(config, log);
  closers.push(() => providers.close());
  // Without TEMPORAL_ADDRESS: a dev server already listening on TEMPORAL_DEV_PORT (`npm run temporal`).
  const temporal = await connectTemporal(config, log);
  const [stores, messaging] = await Promise.all([openStores(config, log), openMessaging(config, log)]);
  closers.push(() => stores.close(), () => messaging.close());
  const metrics = createMetrics({ turnLog: log });

  if (config.METRICS_PORT > 0) {
    // A taken port (two workers on one host with the same METRICS_PORT) costs the metrics, not the worker.
    await serveMetrics(metrics, { port: config.METRICS_PORT, host: config.HOST, token: config.METRICS_TOKEN }).then(
      (served) => {
        closers.push(() => served.close());
        log.info({ url: `http://${config.HOST}:${served.port}/metrics` }, 'worker metrics served');
      },
      (err) => log.error({ err, port: config.METRICS_PORT }, 'could not serve worker metrics on METRICS_PORT (give each worker on a host its own); running without'),
    );
  }
  // The API's deployment bound is the sum of the live workers' WORKER_MAX_TURNS (README, "Admission control").
  const capacity = await advertiseWorkerCapacity(messaging.admission, { maxTurns: config.WORKER_MAX_TURNS, log });
  closers.push(() => capacity.stop());
  const worker = await runWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    deps: activityDeps(config, stores, messaging, providers, metrics),
    maxActivities: config.WORKER_MAX_ACTIVITIES,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    log,
    codec,
    telemetry,
  });
  closers.push(() => worker.shutdown());
  // What this worker reaches now, on its /metrics (turnflow_dependency_up); it keeps running through outages.
  metrics.observeDependencies(() =>
    probeAll({
      temporal: () => worker.connection.workflowService.getSystemInfo({}),
      appStore: () => stores.app.pool.query('SELECT 1'),
      tenantDb: () => stores.tenantPool.query('SELECT 1'),
      events: () => messaging.ping(),
    }),
  );
  void warmUpInBackground(stores, messaging.kv, providers.embedder, log);
  await worker.done;
} catch (err) {
  log.fatal({ err }, 'worker failed');
  await stop(1);
}

// `npm run worker`: one chat-turn worker process. Run N of them against one Temporal cluster.
import { startTemporal } from '../infra/temporal-server.ts';
import { loadProcessConfig, onShutdown } from '../infra/process-entry.ts';
import { openMessaging } from './messaging.ts';
import { activityDeps, warmUpInBackground, openProviders, openStores, runWorker } from './runtime.ts';
import { installTemporalRuntime } from './temporal-runtime.ts';

const { config, log } = loadProcessConfig('worker');
installTemporalRuntime();
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);
try {
  // Without TEMPORAL_ADDRESS this finds (or starts) the dev server on TEMPORAL_DEV_PORT.
  const temporal = await startTemporal(config, log);
  closers.push(() => temporal.stop());
  const [stores, messaging, providers] = await Promise.all([openStores(config, log), openMessaging(config, log), openProviders(config, log)]);
  closers.push(() => stores.close(), () => messaging.close(), () => providers.close());
  const worker = await runWorker({
    address: temporal.address,
    namespace: temporal.namespace,
    deps: activityDeps(config, stores, messaging, providers),
    maxActivities: config.WORKER_MAX_ACTIVITIES,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    log,
  });
  closers.push(() => worker.shutdown());
  void warmUpInBackground(stores, messaging.kv, providers.embedder, log);
  await worker.done;
} catch (err) {
  log.fatal({ err }, 'worker failed');
  await stop(1);
}

// `npm run api`: one stateless API process. Run N of them behind a load balancer.
import { Client, Connection } from '@temporalio/client';
import { openAppStore, migrate } from '../infra/app-store.ts';
import { waitForTemporal } from '../infra/temporal-server.ts';
import { loadProcessConfig, onShutdown } from '../workers/process-entry.ts';
import { openMessaging } from '../workers/runtime.ts';
import { createApp } from './app.ts';
import { createTenantKeyStore } from './auth.ts';
import { listen } from './server.ts';

const { config, log } = loadProcessConfig('api');
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);
try {
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  await waitForTemporal(address, 30_000);
  const connection = await Connection.connect({ address });
  closers.push(() => connection.close());
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const appStore = await openAppStore(config, log);
  closers.push(() => appStore.close());
  await migrate(appStore.pool, log);
  const messaging = await openMessaging(config, log);
  closers.push(() => messaging.close());
  const app = createApp({
    temporal: client,
    events: messaging.events,
    appDb: appStore.pool,
    keys: createTenantKeyStore(appStore.pool, { production: config.NODE_ENV === 'production' }),
    log,
    pingEvents: messaging.ping,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
  });
  const api = await listen(app, config.PORT, config.HOST);
  closers.push(() => api.close());
  log.info({ url: `http://${config.HOST}:${api.port}` }, 'API listening');
} catch (err) {
  log.fatal({ err }, 'API failed to start');
  await stop(1);
}

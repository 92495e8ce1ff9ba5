// `npm run offline-model`: the offline model on its own (OFFLINE_MODEL_PORT, default 4010), for split
// deployments: every worker points at it with OFFLINE_MODEL_URL, and the benchmark sets its latency
// profiles in one place (PUT /_offline/profiles). `npm start` forks this file too (dev-runtime.ts): the
// model's work then stays off the API's and worker's event loop, as a real provider's does, and the
// benchmark can tell its CPU apart from the product's. Forked, it listens on OFFLINE_MODEL_PORT (0: any
// free port) and reports the port to its parent.
import { loadConfigOrExit, onShutdown } from '../infra/process-entry.ts';
import { parseProfilesEnv, startOfflineModel } from '../infra/dev/offline-model/server.ts';
import { productRules } from './offline-rules.ts';

/** What a forked offline model tells its parent once it listens. */
export interface OfflineModelReady {
  offlineModel: { url: string; port: number };
}

const { config, log } = loadConfigOrExit('offline-model');
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);
const forked = typeof process.send === 'function';
try {
  const port = forked ? config.OFFLINE_MODEL_PORT : config.OFFLINE_MODEL_PORT || 4010;
  const model = await startOfflineModel({ product: productRules, host: config.HOST, port, profiles: parseProfilesEnv(config.OFFLINE_MODEL_PROFILES), logger: log });
  closers.push(() => model.close());
  if (forked) {
    process.send!({ offlineModel: { url: model.url, port: model.port } } satisfies OfflineModelReady);
    // The parent going away (even killed) ends this process too.
    process.on('disconnect', () => void stop(0));
  } else {
    log.warn({ url: model.url }, 'OFFLINE MODEL listening (a deterministic rule engine, not an LLM); point workers at it with OFFLINE_MODEL_URL');
  }
} catch (err) {
  log.fatal({ err }, 'offline model failed to start');
  await stop(1);
}

// `npm run offline-model`: the offline model on its own (OFFLINE_MODEL_PORT, default 4010), for split
// deployments: every worker points at it with OFFLINE_MODEL_URL, and the benchmark sets its latency
// profiles in one place (PUT /_offline/profiles).
import { loadConfigOrExit, onShutdown } from '../infra/process-entry.ts';
import { parseProfilesEnv, startOfflineModel } from '../infra/dev/offline-model/server.ts';
import { productRules } from './offline-rules.ts';

const { config, log } = loadConfigOrExit('offline-model');
const closers: (() => Promise<unknown>)[] = [];
const stop = onShutdown(log, closers);
try {
  const model = await startOfflineModel({ product: productRules,  host: config.HOST, port: config.OFFLINE_MODEL_PORT || 4010, profiles: parseProfilesEnv(config.OFFLINE_MODEL_PROFILES), logger: log });
  closers.push(() => model.close());
  log.warn({ url: model.url }, 'OFFLINE MODEL listening (a deterministic rule engine, not an LLM); point workers at it with OFFLINE_MODEL_URL');
} catch (err) {
  log.fatal({ err }, 'offline model failed to start');
  await stop(1);
}

// The development runtime's pieces for `npm start` and tests: the embedded PGlite app store when
// DATABASE_URL is unset, and an offline model of this process's own when no provider key (and no
// OFFLINE_MODEL_URL) is set. The production worker (worker.ts) never loads this file.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../infra/config.ts';
import { stopChild } from '../infra/dev/child-process.ts';
import { openAppStore } from '../infra/dev/embedded-store.ts';
import { parseProfilesEnv, startOfflineModel, type OfflineModel } from '../infra/dev/offline-model/server.ts';
import type { Logger } from '../infra/logger.ts';
import { openProviders, openStores, type Providers, type Stores } from './runtime.ts';
import type { OfflineModelReady } from './offline-model.ts';
import { productRules } from './offline-rules.ts';

/** Stores on DATABASE_URL or, unset, the embedded PGlite under DATA_DIR (in memory for tests). */
export async function openDevStores(config: Config, log: Logger, opts: { inMemory?: boolean; seed?: boolean } = {}): Promise<Stores> {
  const app = await openAppStore(config, log, opts);
  try {
    return await openStores(config, log, { app, ...(opts.seed === undefined ? {} : { seed: opts.seed }) });
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** Providers, and the offline model this process started (absent with keys, or with OFFLINE_MODEL_URL). */
export type DevProviders = Providers & { offline?: OfflineModel };

/**
 * Providers as in production; with no key and no OFFLINE_MODEL_URL, an offline model started here: in this
 * process (tests set its profiles directly), or with `ownProcess` (`npm start`) as a child process, so its
 * work stays off this process's event loop and its CPU is told apart from the product's (the benchmark).
 */
export async function openDevProviders(config: Config, log: Logger, opts: { ownProcess?: boolean } = {}): Promise<DevProviders> {
  if (!config.offline || config.OFFLINE_MODEL_URL) return openProviders(config, log);
  if (opts.ownProcess) {
    const { url, child } = await forkOfflineModel(config);
    log.warn({ url, pid: child.pid }, 'no ANTHROPIC_API_KEY or OPENAI_API_KEY: the OFFLINE MODEL (a deterministic rule engine, not an LLM) answers, in its own process');
    const providers = await openProviders(config, log, { offlineUrl: url });
    return { ...providers, close: async () => { await providers.close(); await stopChild(child, 5000); } };
  }
  const offline = await startOfflineModel({ product: productRules, port: config.OFFLINE_MODEL_PORT, profiles: parseProfilesEnv(config.OFFLINE_MODEL_PROFILES), logger: log });
  const providers = await openProviders(config, log, { offlineUrl: offline.url });
  return {
    ...providers,
    offline,
    close: async () => {
      await providers.close();
      await offline.close();
    },
  };
}

/** Forks `npm run offline-model` on a free port (OFFLINE_MODEL_PORT when set) and waits until it listens. */
async function forkOfflineModel(config: Config): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(path.join(import.meta.dirname, 'offline-model.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, OFFLINE_MODEL_PORT: String(config.OFFLINE_MODEL_PORT) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the offline model did not start within 30 s')), 30_000);
    child.once('message', (m: OfflineModelReady) => {
      clearTimeout(timer);
      resolve(m.offlineModel.url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the offline model process exited with code ${code}`));
    });
  });
  return { url, child };
}

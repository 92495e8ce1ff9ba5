// The development runtime's pieces for `npm start` and tests: the embedded PGlite app store when
// DATABASE_URL is unset, and an offline model of this process's own when no provider key (and no
// OFFLINE_MODEL_URL) is set. The production worker (worker.ts) never loads this file.
import type { Config } from '../infra/config.ts';
import { openAppStore } from '../infra/dev/embedded-store.ts';
import { parseProfilesEnv, startOfflineModel, type OfflineModel } from '../infra/dev/offline-model/server.ts';
import type { Logger } from '../infra/logger.ts';
import { openProviders, openStores, type Providers, type Stores } from './runtime.ts';
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

/** Providers as in production; with no key and no OFFLINE_MODEL_URL, an offline model started here. */
export async function openDevProviders(config: Config, log: Logger): Promise<DevProviders> {
  const offline =
    config.offline && !config.OFFLINE_MODEL_URL
      ? await startOfflineModel({ product: productRules,  port: config.OFFLINE_MODEL_PORT, profiles: parseProfilesEnv(config.OFFLINE_MODEL_PROFILES), logger: log })
      : undefined;
  const providers = await openProviders(config, log, offline ? { offlineUrl: offline.url } : {});
  if (!offline) return providers;
  return {
    ...providers,
    offline,
    close: async () => {
      await providers.close();
      await offline.close();
    },
  };
}

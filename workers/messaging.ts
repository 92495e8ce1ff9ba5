// The shared cache, the turn event bus and the admission counts: Redis with REDIS_URL, in-process equivalents otherwise.
// Built by the entrypoints that host a worker (and by tests); the standalone API builds its own from Redis.
import type { Redis } from 'ioredis';
import { releasingBus } from '../activities/admission/admission.ts';
import type { AdmissionStore } from '../activities/admission/limits.ts';
import { createMemoryAdmissionStore } from '../activities/admission/memory-store.ts';
import { createRedisAdmissionStore } from '../activities/admission/redis-store.ts';
import { createTurnEventBus } from '../activities/turn-events/bus.ts';
import type { Config } from '../infra/config.ts';
import { createMemoryKvCache, createRedisKvCache, type KvCache } from '../infra/kv-cache.ts';
import type { Logger } from '../infra/logger.ts';
import { closeRedis, connectRedis } from '../infra/redis.ts';
import type { TurnEventBus } from '../activities/turn-events/bus.ts';

/** Cache, event bus and admission counts, and how to check and close them. */
export interface Messaging {
  kv: KvCache;
  /** The turn event bus; writing a turn's terminal event frees its admission. */
  events: TurnEventBus;
  /** Admission counts: in this process, or in Redis shared by every API replica. */
  admission: AdmissionStore;
  redis?: Redis;
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

/** Connects Redis (or builds the in-process equivalents); `admissionPrefix` keeps a test stack's counts apart. */
export async function openMessaging(config: Config, log: Logger, opts: { admissionPrefix?: string } = {}): Promise<Messaging> {
  if (!config.REDIS_URL) {
    const admission = createMemoryAdmissionStore();
    const events = releasingBus(createTurnEventBus(undefined, config.EVENT_STREAM_TTL_SECONDS), admission, log);
    return { kv: createMemoryKvCache(5000), events, admission, ping: async () => 'in-process', close: () => events.close() };
  }
  // Caches and admission fail fast while Redis is down (a miss, a refusal); the event bus waits and writes
  // what was published meanwhile, in order, when Redis is back (README, "Reliability").
  const [redis, eventsRedis] = await Promise.all([
    connectRedis(config.REDIS_URL, log, { name: 'commands' }),
    connectRedis(config.REDIS_URL, log, { name: 'events', queueWhileDown: true }),
  ]);
  const admission = createRedisAdmissionStore(redis, opts.admissionPrefix);
  return {
    kv: createRedisKvCache(redis),
    events: releasingBus(createTurnEventBus(eventsRedis, config.EVENT_STREAM_TTL_SECONDS), admission, log),
    admission,
    redis,
    ping: () => redis.ping(),
    close: async () => {
      await Promise.all([closeRedis(redis), closeRedis(eventsRedis)]);
    },
  };
}

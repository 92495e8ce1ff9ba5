// The shared cache and the turn event bus: Redis with REDIS_URL, in-process equivalents otherwise.
// Built by the entrypoints that host a worker (and by tests); the standalone API builds its own from Redis.
import type { Redis } from 'ioredis';
import { createTurnEventBus } from '../activities/turn-events/bus.ts';
import type { Config } from '../infra/config.ts';
import { createMemoryKvCache, createRedisKvCache, type KvCache } from '../infra/kv-cache.ts';
import type { Logger } from '../infra/logger.ts';
import { closeRedis, connectRedis } from '../infra/redis.ts';
import type { TurnEventBus } from '../activities/turn-events/bus.ts';

/** Cache and event bus, and how to check and close them. */
export interface Messaging {
  kv: KvCache;
  events: TurnEventBus;
  redis?: Redis;
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

/** Connects Redis (or builds the in-process equivalents). */
export async function openMessaging(config: Config, log: Logger): Promise<Messaging> {
  if (!config.REDIS_URL) {
    const events = createTurnEventBus(undefined, config.EVENT_STREAM_TTL_SECONDS);
    return { kv: createMemoryKvCache(5000), events, ping: async () => 'in-process', close: () => events.close() };
  }
  const redis = await connectRedis(config.REDIS_URL, log);
  return {
    kv: createRedisKvCache(redis),
    events: createTurnEventBus(redis, config.EVENT_STREAM_TTL_SECONDS),
    redis,
    ping: () => redis.ping(),
    close: () => closeRedis(redis),
  };
}

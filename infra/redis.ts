import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

/** Connects to REDIS_URL (auto-pipelined: concurrent commands share round trips); errors are logged, not thrown. */
export async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  await redis.connect();
  return redis;
}

/** Closes a connection politely, or drops it. */
export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

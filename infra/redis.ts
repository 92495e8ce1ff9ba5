import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

export interface RedisOptions {
  /** Names the connection in logs (`commands`, `events`). */
  name?: string;
  /**
   * Commands wait while Redis is unreachable and go out in order when it is back (the turn event bus: an
   * outage is a pause). Without it a command fails after two reconnect attempts (caches and admission:
   * a lookup that cannot be made is a miss or a 503, never a wait).
   */
  queueWhileDown?: boolean;
}

/**
 * Connects to REDIS_URL (auto-pipelined: concurrent commands share round trips). It reconnects with
 * backoff for as long as the process runs; an outage is logged once when it starts and once when it ends,
 * never thrown (an unhandled `error` event would end the process).
 */
export async function connectRedis(url: string, log: Logger, opts: RedisOptions = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: opts.queueWhileDown ? null : 2,
    enableAutoPipelining: true,
    connectionName: opts.name ? `turnflow-${opts.name}` : undefined,
    // 50 ms, 100 ms, then every 200 ms, forever: a restarted Redis is used again within 200 ms.
    retryStrategy: (times) => Math.min(times * 50, 200),
  });
  let down = false;
  redis.on('error', (err) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message, connection: opts.name }, 'Redis unreachable; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ connection: opts.name }, 'Redis reachable again');
  });
  await redis.connect();
  return redis;
}

/** Whether a connection can serve commands now (for /healthz and the dependency gauge). */
export function redisState(redis: Redis): 'ok' | string {
  return redis.status === 'ready' ? 'ok' : `down: ${redis.status}`;
}

/** Closes a connection politely, or drops it. */
export async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

import type { Redis } from 'ioredis';

/** A key-value cache with TTLs (exact answers, tenant settings, profiles): Redis, or an in-process LRU. Keys are tenant-scoped by the caller. */
export interface KvCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Removes one key. */
  delete(key: string): Promise<void>;
  /** Removes every key with this prefix (tenant invalidation). */
  deletePrefix(prefix: string): Promise<number>;
}

/** Redis implementation: GET / SET EX, prefix deletion with SCAN (never KEYS). */
export function createRedisKvCache(redis: Pick<Redis, 'get' | 'set' | 'scan' | 'unlink'>): KvCache {
  return {
    get: (key) => redis.get(key),
    async delete(key) {
      await redis.unlink(key);
    },
    async set(key, value, ttlSeconds) {
      await redis.set(key, value, 'EX', ttlSeconds);
    },
    async deletePrefix(prefix) {
      let cursor = '0';
      let removed = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) removed += await redis.unlink(...keys);
      } while (cursor !== '0');
      return removed;
    },
  };
}

/** In-process implementation for the single-process embedded default: LRU with TTL. */
export function createMemoryKvCache(maxEntries = 1000, now: () => number = Date.now): KvCache {
  // Map keeps insertion order: re-inserting on read makes the first key the least recently used.
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    async get(key) {
      const e = entries.get(key);
      if (!e) return null;
      if (e.expiresAt <= now()) {
        entries.delete(key);
        return null;
      }
      entries.delete(key);
      entries.set(key, e);
      return e.value;
    },
    async set(key, value, ttlSeconds) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    async delete(key) {
      entries.delete(key);
    },
    async deletePrefix(prefix) {
      let removed = 0;
      for (const key of [...entries.keys()]) {
        if (key.startsWith(prefix)) {
          entries.delete(key);
          removed++;
        }
      }
      return removed;
    },
  };
}

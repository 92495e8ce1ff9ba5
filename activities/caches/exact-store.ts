import type { KvCache } from '../../infra/kv-cache.ts';
import type { CachedAnswer } from './exact-key.ts';

/** Reads a cached answer; a corrupt entry is a miss (the next good answer overwrites it). */
export async function readExact(kv: Pick<KvCache, 'get'>, key: string): Promise<CachedAnswer | null> {
  const raw = await kv.get(key);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as CachedAnswer;
  } catch {
    return null;
  }
}

/** Stores a cached answer for `ttlSeconds`. */
export async function writeExact(kv: Pick<KvCache, 'set'>, key: string, value: CachedAnswer, ttlSeconds: number): Promise<void> {
  await kv.set(key, JSON.stringify(value), ttlSeconds);
}

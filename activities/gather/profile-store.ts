import type { Queryable } from '../../infra/db.ts';
import type { KvCache } from '../../infra/kv-cache.ts';

/** What the assistant may know about the user it talks to. */
export interface UserProfile {
  userId: string;
  displayName: string | null;
  locale: string | null;
  preferences: Record<string, unknown>;
}

/** Profiles change rarely and are read on every turn of a user: cached 5 minutes. */
export const PROFILE_TTL_SECONDS = 300;

/** The user's profile (null when the turn has no user id or the user has none), read through the cache. */
export async function loadProfile(db: Queryable, kv: Pick<KvCache, 'get' | 'set'>, tenantId: string, userId: string | undefined): Promise<UserProfile | null> {
  if (!userId) return null;
  const key = `profile:v1:${tenantId}:${userId}`;
  const cached = await kv.get(key);
  if (cached) return JSON.parse(cached) as UserProfile | null;
  const { rows } = await db.query<{ display_name: string | null; locale: string | null; preferences: Record<string, unknown> }>(
    'SELECT display_name, locale, preferences FROM user_profiles WHERE tenant_id = $1 AND user_id = $2',
    [tenantId, userId],
  );
  const row = rows[0];
  const profile = row ? { userId, displayName: row.display_name, locale: row.locale, preferences: row.preferences ?? {} } : null;
  // "No profile" is cached too, so unknown users do not cost a query per turn.
  await kv.set(key, JSON.stringify(profile), PROFILE_TTL_SECONDS);
  return profile;
}

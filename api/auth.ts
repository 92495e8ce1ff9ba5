import type { Queryable } from '../infra/db.ts';
import type { Request, RequestHandler } from 'express';
import { hashApiKey } from '../infra/app-store.ts';
import { ApiError } from './errors.ts';

/** Resolves an API key to its tenant, or null. */
export interface TenantKeyStore {
  tenantFor(key: string): Promise<string | null>;
}

/** Keys in the app store (`api_keys`, SHA-256), cached briefly; production refuses dev keys. */
export function createTenantKeyStore(db: Queryable, opts: { production: boolean; ttlMs?: number; now?: () => number }): TenantKeyStore {
  const ttlMs = opts.ttlMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { tenantId: string | null; expiresAt: number }>();
  return {
    async tenantFor(key) {
      if (opts.production && key.startsWith('dev-')) return null;
      const hash = hashApiKey(key);
      const hit = cache.get(hash);
      if (hit && hit.expiresAt > now()) return hit.tenantId;
      const { rows } = await db.query<{ tenant_id: string; dev: boolean }>(
        'SELECT tenant_id, dev FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [hash],
      );
      const row = rows[0];
      const tenantId = row && !(opts.production && row.dev) ? row.tenant_id : null;
      // Unknown keys are remembered for less time, so a newly created key works quickly.
      cache.set(hash, { tenantId, expiresAt: now() + (tenantId ? ttlMs : Math.min(ttlMs, 5000)) });
      if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
      return tenantId;
    },
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the auth middleware. */
    tenantId?: string;
  }
}

/** The authenticated tenant of a request (set by `requireTenant`); 401 if a route is reached without one. */
export function tenantOf(req: Request): string {
  if (!req.tenantId) throw new ApiError(401, 'unauthorized', 'Not authenticated');
  return req.tenantId;
}

/** `Authorization: Bearer <tenant api key>`; 401 in the JSON error shape otherwise. */
export function requireTenant(keys: TenantKeyStore): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="turns"' };
    if (!match?.[1]) return next(new ApiError(401, 'unauthorized', 'Missing or malformed Authorization: Bearer <api key>', undefined, challenge));
    const tenantId = await keys.tenantFor(match[1]);
    if (!tenantId) return next(new ApiError(401, 'unauthorized', 'Unknown or revoked API key', undefined, challenge));
    req.tenantId = tenantId;
    next();
  };
}

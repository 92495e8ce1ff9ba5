import type { Queryable } from '../infra/db.ts';
import type { Request, RequestHandler } from 'express';
import { hashApiKey } from '../infra/api-keys.ts';
import { ApiError } from './errors.ts';

/** Who an API key belongs to: one tenant, or the operator (`admin`: every tenant's stats, no tenant route). */
export type Principal = { kind: 'tenant'; tenantId: string; keyId: string } | { kind: 'admin' };

/** A key's id for per-key limits and refusals: the first 12 hex digits of its SHA-256 (not the key, not enough to find it). */
export function keyIdOf(keyHash: string): string {
  return keyHash.slice(0, 12);
}

/** Resolves an API key to its principal, or null. */
export interface TenantKeyStore {
  principalFor(key: string): Promise<Principal | null>;
}

/** Keys in the app store (`api_keys`, `admin_keys`; SHA-256), cached briefly; production refuses dev keys. */
export function createTenantKeyStore(db: Queryable, opts: { production: boolean; ttlMs?: number; now?: () => number }): TenantKeyStore {
  const ttlMs = opts.ttlMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { principal: Principal | null; expiresAt: number }>();
  return {
    async principalFor(key) {
      if (opts.production && key.startsWith('dev-')) return null;
      const hash = hashApiKey(key);
      const hit = cache.get(hash);
      if (hit && hit.expiresAt > now()) return hit.principal;
      // One round trip for both kinds; a hash in both tables (never made by create-key) resolves to the tenant.
      const { rows } = await db.query<{ tenant_id: string | null; dev: boolean; admin?: boolean }>(
        `SELECT tenant_id, dev, false AS admin FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
         UNION ALL
         SELECT NULL, dev, true FROM admin_keys WHERE key_hash = $1 AND revoked_at IS NULL
         ORDER BY admin`,
        [hash],
      );
      const row = rows[0];
      let principal: Principal | null = null;
      if (row && !(opts.production && row.dev)) {
        if (row.admin) principal = { kind: 'admin' };
        else if (row.tenant_id) principal = { kind: 'tenant', tenantId: row.tenant_id, keyId: keyIdOf(hash) };
      }
      // Unknown keys are remembered for less time, so a newly created key works quickly.
      cache.set(hash, { principal, expiresAt: now() + (principal ? ttlMs : Math.min(ttlMs, 5000)) });
      if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
      return principal;
    },
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the auth middleware. */
    principal?: Principal;
    /** Set by the auth middleware for a tenant key. */
    tenantId?: string;
    /** The tenant key's id (`keyIdOf`), set with `tenantId`. */
    keyId?: string;
  }
}

/** The authenticated principal of a request (set by `requireApiKey`); 401 if a route is reached without one. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw new ApiError(401, 'unauthorized', 'Not authenticated');
  return req.principal;
}

/** The authenticated tenant of a request, for routes that act for one tenant; an admin key is a 403. */
export function tenantOf(req: Request): string {
  if (req.principal?.kind === 'admin') {
    throw new ApiError(403, 'admin_key_not_allowed', "This route acts for one tenant: call it with that tenant's API key (an admin key reads GET /v1/stats only)");
  }
  if (!req.tenantId) throw new ApiError(401, 'unauthorized', 'Not authenticated');
  return req.tenantId;
}

/** `Authorization: Bearer <api key>` (a tenant's or an admin's); 401 in the JSON error shape otherwise. */
export function requireApiKey(keys: TenantKeyStore): RequestHandler {
  return async (req, _res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
    const challenge = { 'WWW-Authenticate': 'Bearer realm="turns"' };
    if (!match?.[1]) return next(new ApiError(401, 'unauthorized', 'Missing or malformed Authorization: Bearer <api key>', undefined, challenge));
    const principal = await keys.principalFor(match[1]);
    if (!principal) return next(new ApiError(401, 'unauthorized', 'Unknown or revoked API key', undefined, challenge));
    req.principal = principal;
    if (principal.kind === 'tenant') {
      req.tenantId = principal.tenantId;
      req.keyId = principal.keyId;
    }
    next();
  };
}

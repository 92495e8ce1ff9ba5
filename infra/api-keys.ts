// API keys: only their SHA-256 is stored; a new key is shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from './db.ts';

/** A new API key: `tf_` (tenant) or `tfa_` (admin) and 24 random bytes, recognisable by secret scanners; never `dev-`, which production refuses. */
export function newApiKey(kind: 'tenant' | 'admin'): string {
  return `${kind === 'admin' ? 'tfa_' : 'tf_'}${randomBytes(24).toString('base64url')}`;
}

/** Stores a new key for a tenant (only its hash) and returns it: shown once. */
export async function createTenantKey(db: Queryable, tenantId: string, label: string): Promise<string> {
  const key = newApiKey('tenant');
  await db.query('INSERT INTO api_keys (key_hash, tenant_id, label) VALUES ($1, $2, $3)', [hashApiKey(key), tenantId, label]);
  return key;
}

/** SHA-256 of an API key, as stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Stores a new admin key (only its hash) and returns it: shown once. */
export async function createAdminKey(db: Queryable, label: string): Promise<string> {
  const key = newApiKey('admin');
  await db.query('INSERT INTO admin_keys (key_hash, label) VALUES ($1, $2)', [hashApiKey(key), label]);
  return key;
}

/** Registers the documented development keys (a tenant's, or the admin's when `tenantId` is null); production never calls this. */
export async function registerDevKey(db: Queryable, key: string, tenantId: string | null): Promise<void> {
  if (tenantId === null) {
    await db.query(`INSERT INTO admin_keys (key_hash, label, dev) VALUES ($1, 'development admin key', true) ON CONFLICT (key_hash) DO NOTHING`, [hashApiKey(key)]);
  } else {
    await db.query(`INSERT INTO api_keys (key_hash, tenant_id, label, dev) VALUES ($1, $2, 'development key', true) ON CONFLICT (key_hash) DO NOTHING`, [hashApiKey(key), tenantId]);
  }
}

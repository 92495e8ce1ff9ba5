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


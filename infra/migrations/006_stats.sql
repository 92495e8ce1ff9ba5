-- Turn statistics (GET /v1/stats) and the admin key that reads them for every tenant.

-- A tenant's turns of a time window, newest first (the stats read; capped, so newest first matters).
-- On a large production `turns` table, build these beforehand with CREATE INDEX CONCURRENTLY under the same
-- names: migrations run in a transaction, which would hold writes to `turns` while the index builds.
CREATE INDEX IF NOT EXISTS turns_tenant_created_idx ON turns (tenant_id, created_at DESC);
-- The admin's read over every tenant's turns of a window.
CREATE INDEX IF NOT EXISTS turns_created_idx ON turns (created_at DESC);

-- Operator keys, SHA-256 like tenant keys. A table of their own rather than a nullable tenant and a role on
-- `api_keys`: every `api_keys` row keeps naming a tenant (NOT NULL, foreign key), so no tenant-key path can
-- ever produce an unscoped principal, and the few keys that see every tenant are listed (and revoked) apart.
CREATE TABLE admin_keys (
  key_hash    text PRIMARY KEY,
  label       text NOT NULL DEFAULT '',
  dev         boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

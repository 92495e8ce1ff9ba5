import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { stopChild } from './child-process.ts';
import type { Config } from './config.ts';
import type { Queryable } from './db.ts';
import type { Logger } from './logger.ts';
import type { PgliteReady } from './pglite-server.ts';

const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');

/** A Postgres-protocol store and how it was obtained. */
export interface Store {
  pool: pg.Pool;
  /** Connection string (embedded: the loopback PGlite server). */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * A Postgres pool. Vectors are written as pgvector text literals (`pgvector.toSql`) and never read back
 * (searches return distances), so no type parser is registered: registering one per connection raced
 * the connection's first query.
 */
export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
  // An idle client losing its server must not crash the process; the next checkout reconnects.
  pool.on('error', () => {});
  return pool;
}

/** Starts the PGlite child process on a data folder and waits until it serves. */
export async function startEmbeddedPglite(dataDir: string | undefined, log: Logger): Promise<{ url: string; child: ChildProcess }> {
  const entry = path.join(import.meta.dirname, 'pglite-server.ts');
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PGLITE_DATA_DIR: dataDir ?? '', PGLITE_PORT: '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('PGlite did not start within 60 s')), 60_000);
    child.once('message', (m: PgliteReady) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PGlite process exited with code ${code}`));
    });
  });
  log.info({ dataDir: dataDir ?? 'memory://', port }, 'embedded app store (PGlite + pgvector) is serving');
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, child };
}

/** Opens the app store: `DATABASE_URL`, or PGlite under `DATA_DIR/pglite` (memory when `inMemory`). */
export async function openAppStore(config: Config, log: Logger, opts: { inMemory?: boolean } = {}): Promise<Store> {
  if (config.DATABASE_URL) {
    const pool = createPool(config.DATABASE_URL, config.PG_POOL_MAX);
    await pool.query('SELECT 1');
    return { pool, url: config.DATABASE_URL, embedded: false, close: () => pool.end() };
  }
  const dataDir = opts.inMemory ? undefined : path.join(config.DATA_DIR, 'pglite');
  const { url, child } = await startEmbeddedPglite(dataDir, log);
  const pool = createPool(url, config.PG_POOL_MAX);
  return {
    pool,
    url,
    embedded: true,
    close: async () => {
      await pool.end();
      await stopChild(child, 10_000); // PGlite flushes its files on SIGTERM
    },
  };
}

/** Applies `infra/migrations/NNN_*.sql` not yet recorded, each in its own transaction. */
export async function migrate(pool: pg.Pool, log: Logger): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const file of files) {
      const version = file.slice(0, 3);
      await client.query('BEGIN');
      try {
        // Serializes concurrent starters (API and worker booting together) per migration.
        await client.query('SELECT pg_advisory_xact_lock(7243001)');
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
        if (done.rowCount) {
          await client.query('COMMIT');
          continue;
        }
        await client.query(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
        applied.push(file);
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err });
      }
    }
  } finally {
    client.release();
  }
  if (applied.length) log.info({ applied }, 'applied migrations');
  return applied;
}

/** SHA-256 of an API key, as stored. */
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

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The demo tenants and, outside production, their documented dev keys. */
export const DEMO_TENANT_NAMES: Record<string, string> = { acme: 'Acme Outfitters', globex: 'Globex Market' };
export const DEV_KEYS: Record<string, string> = { acme: 'dev-acme-key', globex: 'dev-globex-key' };
/** The documented development admin key (every tenant's stats), registered only outside production. */
export const DEV_ADMIN_KEY = 'dev-admin-key';

/** Creates the demo tenants; registers dev keys (the tenants' and the admin's) only outside production. */
export async function ensureDemoTenants(pool: pg.Pool, config: Config): Promise<void> {
  if (config.NODE_ENV !== 'production') {
    await pool.query(
      `INSERT INTO admin_keys (key_hash, label, dev) VALUES ($1, 'development admin key', true) ON CONFLICT (key_hash) DO NOTHING`,
      [hashApiKey(DEV_ADMIN_KEY)],
    );
  }
  for (const [id, name] of Object.entries(DEMO_TENANT_NAMES)) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, name]);
    const devKey = DEV_KEYS[id];
    if (config.NODE_ENV !== 'production' && devKey) {
      await pool.query(
        `INSERT INTO api_keys (key_hash, tenant_id, label, dev) VALUES ($1, $2, 'development key', true)
         ON CONFLICT (key_hash) DO NOTHING`,
        [hashApiKey(devKey), id],
      );
    }
  }
}

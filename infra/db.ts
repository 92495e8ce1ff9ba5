import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from './logger.ts';

const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');

/** A quoted SQL identifier (schema, table, role name), safe whatever it contains. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The one thing most code needs of a Postgres pool; a `pg.Pool` is one, and a test fake is a few lines. */
export interface Queryable {
  query<R extends Record<string, any> = any>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

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
export function createPool(url: string, max: number, opts: { connectTimeoutMs?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000 });
  // A Postgres restart must not crash the process. An idle client's 'error' reaches the pool (which drops the
  // client; the next checkout reconnects). A checked-out client has no pool listener while it is out, and pg
  // emits 'error' on it besides failing its query: without a listener of its own that 'error' is an
  // uncaught exception. The query's own rejection is what the caller handles.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  return pool;
}

/**
 * True for errors that mean the database cannot be reached or went away (refused, timed out, reset, shut
 * down, restarting), as opposed to an error of the query itself.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // Class 08: connection exception; 57P01..57P03: admin shutdown, crash shutdown, cannot connect now.
  if (/^08/.test(code) || ['57P01', '57P02', '57P03'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (/timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)) return true;
  return e.cause ? isConnectionError(e.cause) : false;
}

/** The app store at `DATABASE_URL` (Postgres with pgvector); the embedded PGlite default is the dev runtime's (`infra/dev/embedded-store.ts`). */
export async function openDatabase(url: string, poolMax: number): Promise<Store> {
  const pool = createPool(url, poolMax);
  await pool.query('SELECT 1');
  return { pool, url, embedded: false, close: () => pool.end() };
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


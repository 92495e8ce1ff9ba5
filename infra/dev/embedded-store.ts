// The embedded app store for development: PGlite + pgvector in a child process, served on the Postgres
// wire protocol so the product's `pg` code runs unchanged.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../config.ts';
import { createPool, openDatabase, type Store } from '../db.ts';
import type { Logger } from '../logger.ts';
import { stopChild } from './child-process.ts';
import type { PgliteReady } from './pglite-server.ts';

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
  if (config.DATABASE_URL) return openDatabase(config.DATABASE_URL, config.PG_POOL_MAX);
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


// The embedded app store: PGlite (Postgres compiled to WASM) with pgvector, served on the
// Postgres wire protocol so the product's `pg` code runs unchanged. It runs in its own process:
// PGlite is single-threaded, and a 60k-row aggregate must not stall other turns' SSE streams.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { loadConfig } from '../config.ts';
import { ProtocolExchangeQueue } from './pglite-protocol-queue.ts';

/** Message the child sends its parent over IPC once it accepts connections. */
export interface PgliteReady {
  type: 'pglite-ready';
  port: number;
}

/** PGlite has one writer: a second process on the same folder would corrupt it, so refuse with a clear message. */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const lock = `${dataDir}.pid`;
  try {
    const holder = Number(readFileSync(lock, 'utf8'));
    if (holder && holder !== process.pid) {
      process.kill(holder, 0); // throws when that process is gone
      throw new Error(`${dataDir} is in use by process ${holder}; stop it or use another DATA_DIR`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

/** Opens (or creates) the database folder and serves it; returns a stopper. */
export async function servePglite(opts: { dataDir?: string; port?: number; maxConnections?: number }) {
  const releaseLock = opts.dataDir ? lockDataDir(opts.dataDir) : () => {};
  const db = await PGlite.create({ dataDir: opts.dataDir, extensions: { vector } });
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: opts.port ?? 0,
    // pglite-socket multiplexes connections onto the one PGlite session; session state (SET, prepared
    // names) is shared, so the app never relies on it.
    maxConnections: opts.maxConnections ?? 32,
  });
  // Its own queue interleaves connections message by message; this one keeps each query's exchange whole
  // (see pglite-protocol-queue.ts). Connections take the server's queue when they attach, after this.
  (server as unknown as { queryQueue: ProtocolExchangeQueue }).queryQueue = new ProtocolExchangeQueue(db);
  await server.start();
  const port = (server as unknown as { port: number }).port;
  return {
    port,
    stop: async () => {
      await server.stop();
      await db.close();
      releaseLock();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // As a child of openAppStore the parent passes both; standalone (`npm run db`) it uses DATA_DIR/pglite on 55432.
  const standalone = !process.send;
  const dataDir = process.env.PGLITE_DATA_DIR || (standalone ? path.join(loadConfig().DATA_DIR, 'pglite') : undefined);
  const port = Number(process.env.PGLITE_PORT || (standalone ? 55432 : 0));
  const { port: bound, stop } = await servePglite({ dataDir, port });
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Closing PGlite flushes its files; a kill -9 would risk the embedded database.
    await stop().catch(() => {});
    process.exit(code);
  };
  if (process.send) {
    process.send({ type: 'pglite-ready', port: bound } satisfies PgliteReady);
    // The parent went away (even by SIGKILL): do not outlive it holding the data folder.
    process.on('disconnect', () => void shutdown(0));
  } else {
    console.log(`PGlite (pgvector) serving ${dataDir ?? 'memory://'} at postgres://postgres@127.0.0.1:${bound}/postgres`);
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
}

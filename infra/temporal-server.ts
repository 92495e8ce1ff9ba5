import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import { stopChild } from './child-process.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/shared/contract.ts';
import { loadConfig, REPO_ROOT, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { cliVersion, defaultCliCacheDir, findOrBuildTemporalCli } from './temporal-cli.ts';

/** A reachable Temporal frontend, started by us or not. */
export interface TemporalHandle {
  address: string;
  namespace: string;
  /** Web UI, when known. */
  uiUrl?: string;
  /** How it was obtained, for logs. */
  source: 'external' | 'reused' | 'started' | 'sdk-download';
  stop(): Promise<void>;
}

export interface StartTemporalOptions {
  /** Keep the dev server's state in memory (tests) instead of `DATA_DIR/temporal.db`. */
  inMemory?: boolean;
  /** Override ports (tests use free ports). */
  port?: number;
  uiPort?: number;
  /** Disable the Web UI (tests). */
  headless?: boolean;
}

/** Search attributes every turn uses; registered on the dev server or checked on a cluster. */
export const TURN_SEARCH_ATTRIBUTES: Record<string, 'Keyword' | 'Bool'> = {
  [SEARCH_ATTRIBUTES.tenantId]: 'Keyword',
  [SEARCH_ATTRIBUTES.sessionId]: 'Keyword',
  [SEARCH_ATTRIBUTES.cacheOutcome]: 'Keyword',
  [SEARCH_ATTRIBUTES.intent]: 'Keyword',
  [SEARCH_ATTRIBUTES.fallbackUsed]: 'Bool',
};

// IndexedValueType in the Temporal API enum.
const INDEXED_VALUE_TYPE = { Keyword: 2, Bool: 5 } as const;

/**
 * Server settings for chat latency: one task-queue partition (no forwarding hops between a task and
 * its poller), eager activity dispatch (the worker that completes a workflow task starts the activity it
 * scheduled without a round trip through matching) and eager workflow start (a start request from a
 * client on a worker's connection gets the first workflow task in its reply). Recommended for clusters too (README).
 */
export const LOW_LATENCY_DYNAMIC_CONFIG = [
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
  'system.enableActivityEagerExecution=true',
  'system.enableEagerWorkflowStart=true',
];

/** A TCP port that is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until a Temporal frontend answers GetSystemInfo. */
export async function waitForTemporal(address: string, timeoutMs = 60_000, child?: ChildProcess, namespace = 'default'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await conn.workflowService.getSystemInfo({});
        await conn.workflowService.describeNamespace({ namespace });
        // The frontend answers before the history shards are up ("shard status unknown" on the first
        // start): ask a shard about a workflow that does not exist; "not found" means it is serving.
        await conn.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: 'turnflow-readiness-probe' } }).catch((err: { code?: number }) => {
          if (err.code !== 5) throw err; // 5 = NOT_FOUND
        });
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Registers the turn's search attributes where they are missing (clusters we did not start). */
export async function ensureSearchAttributes(address: string, namespace: string, log: Logger): Promise<void> {
  const conn = await Connection.connect({ address });
  try {
    const existing = await conn.operatorService.listSearchAttributes({ namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.keys(TURN_SEARCH_ATTRIBUTES).filter((k) => !have.has(k));
    if (missing.length === 0) return;
    const searchAttributes = Object.fromEntries(missing.map((k) => [k, INDEXED_VALUE_TYPE[TURN_SEARCH_ATTRIBUTES[k]!]]));
    await conn.operatorService.addSearchAttributes({ namespace, searchAttributes });
    log.info({ added: missing }, 'registered search attributes');
  } catch (err) {
    log.warn({ err }, 'could not register search attributes; turns will not be searchable by tenant/session/cache until an operator adds them');
  } finally {
    await conn.close();
  }
}

/**
 * Connects to `TEMPORAL_ADDRESS`, or starts `temporal server start-dev` (Web UI included)
 * with its database under `DATA_DIR`, finding or building the CLI first.
 */
export async function startTemporal(config: Config, log: Logger, opts: StartTemporalOptions = {}): Promise<TemporalHandle> {
  const namespace = config.TEMPORAL_NAMESPACE;
  if (config.TEMPORAL_ADDRESS) {
    await waitForTemporal(config.TEMPORAL_ADDRESS, 30_000, undefined, namespace);
    await ensureSearchAttributes(config.TEMPORAL_ADDRESS, namespace, log);
    return { address: config.TEMPORAL_ADDRESS, namespace, source: 'external', stop: async () => {} };
  }
  const port = opts.port ?? config.TEMPORAL_DEV_PORT;
  const uiPort = opts.uiPort ?? config.TEMPORAL_UI_PORT;
  const address = `127.0.0.1:${port}`;
  if (await portOpen(port)) {
    // A dev server from an earlier `npm start` or `npm run temporal` is still up: use it.
    await waitForTemporal(address, 10_000, undefined, namespace);
    await ensureSearchAttributes(address, namespace, log);
    log.info({ address }, 'reusing the Temporal server already listening');
    return { address, namespace, uiUrl: `http://127.0.0.1:${uiPort}`, source: 'reused', stop: async () => {} };
  }
  const cli = await findOrBuildTemporalCli({
    explicitPath: config.TEMPORAL_CLI,
    cacheDir: defaultCliCacheDir(REPO_ROOT, config.TEMPORAL_CLI_CACHE_DIR),
    log,
  });
  if (!cli) return startWithSdkDownload(config, log, { port, uiPort, inMemory: opts.inMemory, headless: opts.headless });

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (!opts.inMemory) {
    mkdirSync(config.DATA_DIR, { recursive: true });
    args.push('--db-filename', path.join(config.DATA_DIR, 'temporal.db'));
  }
  for (const [key, type] of Object.entries(TURN_SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key}=${type}`);
  for (const setting of LOW_LATENCY_DYNAMIC_CONFIG) args.push('--dynamic-config-value', setting);
  log.info({ cli: cli.path, source: cli.source, version: cliVersion(cli.path) }, 'starting the Temporal dev server');
  const child = spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A crash of this process (uncaught error, process.exit) must not leave the dev server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const forward = (chunk: Buffer) => log.debug({ temporal: chunk.toString().trim() }, 'temporal dev server');
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  await waitForTemporal(address, 60_000, child, namespace);
  const uiUrl = opts.headless ? undefined : `http://127.0.0.1:${uiPort}`;
  return {
    address,
    namespace,
    uiUrl,
    source: 'started',
    stop: async () => {
      process.off('exit', killOnExit);
      await stopChild(child, 5000);
    },
  };
}

async function startWithSdkDownload(
  config: Config,
  log: Logger,
  o: { port: number; uiPort: number; inMemory?: boolean; headless?: boolean },
): Promise<TemporalHandle> {
  log.warn('starting Temporal through the SDK download (machines with internet only)');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: o.port,
      ui: !o.headless,
      uiPort: o.uiPort,
      dbFilename: o.inMemory ? undefined : path.join(config.DATA_DIR, 'temporal.db'),
      namespace: config.TEMPORAL_NAMESPACE,
      extraArgs: Object.entries(TURN_SEARCH_ATTRIBUTES).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
    },
  });
  return {
    address: `127.0.0.1:${o.port}`,
    namespace: config.TEMPORAL_NAMESPACE,
    uiUrl: o.headless ? undefined : `http://127.0.0.1:${o.uiPort}`,
    source: 'sdk-download',
    stop: () => env.teardown(),
  };
}

// `npm run temporal`: run only the dev server (for separate API and worker processes).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'temporal');
  const handle = await startTemporal(config, log);
  log.info({ address: handle.address, ui: handle.uiUrl }, 'Temporal is up; Ctrl-C stops it');
  const stop = async () => {
    await handle.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

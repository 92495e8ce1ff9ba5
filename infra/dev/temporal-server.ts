// The Temporal dev server for development and tests: `temporal server start-dev` from the CLI found or
// built by temporal-cli.ts (or the SDK's download on machines with internet), or one already listening.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, REPO_ROOT, type Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { PayloadKey } from '../payload-codec.ts';
import { codecUiEndpoint, codecUiToken, resolvePayloadKeys } from '../payload-keys.ts';
import { connectTemporal, ensureSearchAttributes, LOW_LATENCY_DYNAMIC_CONFIG, TURN_SEARCH_ATTRIBUTES, waitForTemporal, type TemporalHandle } from '../temporal.ts';
import { stopChild } from './child-process.ts';
import { cliVersion, defaultCliCacheDir, findOrBuildTemporalCli } from './temporal-cli.ts';

export interface StartTemporalOptions {
  /** Keep the dev server's state in memory (tests) instead of `DATA_DIR/temporal.db`. */
  inMemory?: boolean;
  /** Override ports (tests use free ports). */
  port?: number;
  uiPort?: number;
  /** Disable the Web UI (tests). */
  headless?: boolean;
  /** Codec endpoint the Web UI decodes payloads with (`--ui-codec-endpoint`): the API's, with its Web UI token. */
  uiCodecEndpoint?: string;
}

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

/**
 * Connects to `TEMPORAL_ADDRESS`, or starts `temporal server start-dev` (Web UI included)
 * with its database under `DATA_DIR`, finding or building the CLI first.
 */
export async function startTemporal(config: Config, log: Logger, opts: StartTemporalOptions = {}): Promise<TemporalHandle> {
  const namespace = config.TEMPORAL_NAMESPACE;
  if (config.TEMPORAL_ADDRESS) return connectTemporal(config, log);
  const port = opts.port ?? config.TEMPORAL_DEV_PORT;
  const uiPort = opts.uiPort ?? config.TEMPORAL_UI_PORT;
  const address = `127.0.0.1:${port}`;
  if (await portOpen(port)) {
    // A dev server from an earlier `npm start` or `npm run temporal` is still up: use it.
    await waitForTemporal(address, 10_000, undefined, namespace);
    await ensureSearchAttributes(address, namespace, log);
    log.info({ address }, 'reusing the Temporal server already listening');
    if (opts.uiCodecEndpoint && !opts.headless) log.warn('the reused dev server keeps the Web UI codec endpoint it was started with: if its Web UI shows ciphertext, stop it and start again');
    return { address, namespace, uiUrl: `http://127.0.0.1:${uiPort}`, source: 'reused', stop: async () => {} };
  }
  const cli = await findOrBuildTemporalCli({
    explicitPath: config.TEMPORAL_CLI,
    cacheDir: defaultCliCacheDir(REPO_ROOT, config.TEMPORAL_CLI_CACHE_DIR),
    log,
  });
  if (!cli) return startWithSdkDownload(config, log, { port, uiPort, inMemory: opts.inMemory, headless: opts.headless, uiCodecEndpoint: opts.uiCodecEndpoint });

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  if (opts.headless) args.push('--headless');
  else {
    args.push('--ui-port', String(uiPort));
    if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  }
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

/**
 * The Web UI's codec endpoint on the API this machine runs (`PORT`), so the embedded Web UI shows payloads decrypted;
 * undefined when the API's port is not known in advance (PORT=0) or no browser origin may call it.
 */
export function devUiCodecEndpoint(config: Config, keys: readonly PayloadKey[]): string | undefined {
  if (config.PORT === 0 || config.CODEC_CORS_ORIGINS.length === 0) return undefined;
  const host = ['0.0.0.0', '::', ''].includes(config.HOST) ? '127.0.0.1' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  return codecUiEndpoint(`http://${host}:${config.PORT}`, codecUiToken(config, keys));
}

async function startWithSdkDownload(
  config: Config,
  log: Logger,
  o: { port: number; uiPort: number; inMemory?: boolean; headless?: boolean; uiCodecEndpoint?: string },
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
      extraArgs: [
        ...Object.entries(TURN_SEARCH_ATTRIBUTES).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
        ...(o.uiCodecEndpoint && !o.headless ? ['--ui-codec-endpoint', o.uiCodecEndpoint] : []),
      ],
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
  const log = createLogger(config.LOG_LEVEL, 'temporal', undefined, config.LOG_FORMAT);
  const handle = await startTemporal(config, log, { uiCodecEndpoint: devUiCodecEndpoint(config, resolvePayloadKeys(config, log).keys) });
  log.info({ address: handle.address, ui: handle.uiUrl }, 'Temporal is up; Ctrl-C stops it');
  const stop = async () => {
    await handle.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

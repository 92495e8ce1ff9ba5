import { chartUrlSecret } from './chart-url-secret.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';

/** Loads the config once for an entrypoint; a bad setting ends the process with a message naming the variable. */
export function loadConfigOrExit(name: string): { config: Config; log: Logger } {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
  return { config, log: createLogger(config.LOG_LEVEL, name, undefined, config.LOG_FORMAT) };
}

/** Loads the config for a standalone API or worker process, which must share Redis and Postgres with its peers. */
export function loadProcessConfig(role: 'api' | 'worker'): { config: Config; log: Logger } {
  const { config, log } = loadConfigOrExit(role);
  const missing = (['REDIS_URL', 'DATABASE_URL'] as const).filter((k) => !config[k]);
  if (missing.length) {
    console.error(
      `The ${role} as its own process shares state with the other processes, so it needs ${missing.join(' and ')}.\n` +
        '  REDIS_URL=redis://127.0.0.1:6379   DATABASE_URL=<postgres with pgvector, or the URL `npm run db` prints>\n' +
        'For everything in one process on embedded defaults, use `npm start`.',
    );
    process.exit(2);
  }
  return { config, log };
}

/** The chart URL signing key for a process that serves the API; without one in production, the process ends saying so. */
export function chartUrlSecretOrExit(config: Config): string {
  try {
    return chartUrlSecret(config);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
}

/** Registers SIGINT/SIGTERM handlers that run the closers in reverse order, then exit. */
export function onShutdown(log: Logger, closers: (() => Promise<unknown>)[]): (code: number) => Promise<never> {
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      for (const close of [...closers].reverse()) await close().catch((err) => log.warn({ err }, 'error while stopping'));
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  keepServingOnStrayRejections(log);
  return stop;
}

/**
 * A promise rejected with no handler (a dependency's error surfacing where nothing awaited it) is logged and
 * not allowed to end the process: one turn's lost write must not take every other turn down. Each one is a
 * bug to fix, logged at error level so it is seen.
 */
export function keepServingOnStrayRejections(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled promise rejection (the process keeps serving)');
  });
}

import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/**
 * Quiets the SDK's own console logging to warnings (our logs go through pino). `ERROR` also quiets the SDK
 * core's native log, which otherwise reports a failed workflow task (what a replay's divergence is) on stderr.
 */
export function installTemporalRuntime(level: 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' = 'WARN'): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(level), ...(level === 'ERROR' ? { telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } } : {}) });
}

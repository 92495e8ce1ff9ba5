import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** Quiets the SDK's own console logging to warnings (our logs go through pino). */
export function installTemporalRuntime(level: 'WARN' | 'INFO' | 'DEBUG' = 'WARN'): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger(level) });
}

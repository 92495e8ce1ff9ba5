// `npm start` as a newcomer runs it, for e2e tests: its own dev server (Web UI included), PGlite in a fresh
// DATA_DIR, the in-process bus and the offline model, on free ports, with none of the run's services
// inherited; everything its process tree writes is captured.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/config.ts';
import { freePort } from '../../infra/dev/temporal-server.ts';

/** A running `npm start`. */
export interface NpmStart {
  child: ChildProcess;
  port: number;
  temporalPort: number;
  uiPort: number;
  dataDir: string;
  /** From spawning it to its banner, ms. */
  upMs: number;
  /** Everything its processes wrote so far, stdout and stderr. */
  output(): string;
  /** Stops it (SIGINT, as Ctrl-C) and waits for it to exit; again: nothing. */
  stop(): Promise<void>;
  /** Stops it and removes its DATA_DIR. */
  close(): Promise<void>;
}

/** Starts `npm start` and resolves once its banner (the dev keys) is printed. */
export async function startNpmStart(opts: { logLevel: string; offlineProfiles: string; tmpPrefix: string; env?: Record<string, string> }): Promise<NpmStart> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), opts.tmpPrefix));
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), TEMPORAL_DEV_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort), DATA_DIR: dataDir, LOG_LEVEL: opts.logLevel };
  for (const k of ['TEMPORAL_ADDRESS', 'TEMPORAL_UI_URL', 'DATABASE_URL', 'TENANT_DATABASE_URL', 'REDIS_URL', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'TEMPORAL_TASK_QUEUE']) delete env[k];
  env.OFFLINE_MODEL_PROFILES = opts.offlineProfiles;
  Object.assign(env, opts.env);
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'workers', 'dev.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  };
  const close = async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output.slice(-3000)}`)), 120_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Dev keys')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code}):\n${output.slice(-3000)}`));
      });
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { child, port, temporalPort, uiPort, dataDir, upMs: Date.now() - started, output: () => output, stop, close };
}

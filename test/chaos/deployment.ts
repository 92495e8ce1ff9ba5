// The split deployment of the README ("Running the pieces separately") as child processes on loopback, each
// on a free port, so a fault can be injected into one piece: killed (SIGKILL, its whole process group) and
// started again on the same port with the same data. Used by `npm run chaos` and test/e2e/chaos.test.ts.
//
// Pieces: a Redis of its own (not the machine's: it gets killed), the Temporal dev server with its database
// file, PGlite as the app store, the offline model, two workers and the API. Tenant analytics data is the
// machine's PostgreSQL (the test tenants' database), which no fault here touches.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../infra/config.ts';
import { freePort } from '../../infra/dev/temporal-server.ts';
import { ensureTenantDatabase, TEST_ANCHOR_DATE } from '../helpers/stack.ts';

export type PieceName = 'redis' | 'temporal' | 'appStore' | 'offlineModel' | 'worker1' | 'worker2' | 'api';

interface Piece {
  name: PieceName;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Ready when this port accepts connections, and (when set) this line was logged. */
  port: number;
  readyLine?: RegExp;
  child?: ChildProcess;
  /** Set while a fault holds it down (its exit is expected). */
  killed?: boolean;
}

/** A running split deployment. */
export interface SplitDeployment {
  apiUrl: string;
  offlineModelUrl: string;
  temporalAddress: string;
  /** Pieces that exited without being killed by a fault (must stay empty). */
  unexpectedExits: string[];
  /** Kills a piece (SIGKILL to its process group) and returns when it is gone. */
  kill(name: PieceName): Promise<void>;
  /** Starts a killed piece again (same port, same data) and returns when it is ready. */
  restart(name: PieceName): Promise<void>;
  /** The worker process a Temporal identity (`pid@host`) names. */
  workerByIdentity(identity: string | undefined): PieceName | undefined;
  /** The last lines a piece wrote (for a failure's message). */
  tail(name: PieceName): string;
  close(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, context: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts every piece; `logDir` keeps each piece's output (a temporary directory otherwise, removed on close). */
export async function startSplitDeployment(opts: { logDir?: string; redisServer?: string } = {}): Promise<SplitDeployment> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'turnflow-chaos-'));
  const logDir = opts.logDir ?? dir;
  const [redisPort, temporalPort, uiPort, pglitePort, modelPort, apiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const tenantDb = await ensureTenantDatabase();
  const node = process.execPath;
  const tsx = (file: string) => ['--import', 'tsx', path.join(REPO_ROOT, file)];
  const base: Record<string, string> = {
    // The test runner's own Temporal must not be reused by the dev server piece.
    TEMPORAL_ADDRESS: '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATA_DIR: path.join(dir, 'data'),
    TEMPORAL_CLI_CACHE_DIR: process.env.TEMPORAL_CLI_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'turnflow'),
  };
  const services: Record<string, string> = {
    ...base,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_TASK_QUEUE: 'chaos',
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pglitePort}/postgres`,
    TENANT_DATABASE_URL: tenantDb,
    SEED_ANCHOR_DATE: TEST_ANCHOR_DATE,
    OFFLINE_MODEL_URL: `http://127.0.0.1:${modelPort}`,
    METRICS_PORT: '0',
  };
  const pieces: Record<PieceName, Piece> = {
    redis: {
      name: 'redis',
      command: opts.redisServer ?? 'redis-server',
      // As the machine's: no persistence, so a restart loses what Redis held (the harder case).
      args: ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      env: {},
      port: redisPort,
    },
    temporal: {
      name: 'temporal',
      command: node,
      args: tsx('infra/dev/temporal-server.ts'),
      env: { ...base, TEMPORAL_DEV_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort) },
      port: temporalPort,
      readyLine: /Temporal is up/,
    },
    appStore: { name: 'appStore', command: node, args: tsx('infra/dev/pglite-server.ts'), env: { ...base, PGLITE_PORT: String(pglitePort), PGLITE_DATA_DIR: path.join(dir, 'pglite') }, port: pglitePort },
    offlineModel: { name: 'offlineModel', command: node, args: tsx('workers/offline-model.ts'), env: { ...base, OFFLINE_MODEL_PORT: String(modelPort) }, port: modelPort },
    worker1: { name: 'worker1', command: node, args: tsx('workers/worker.ts'), env: services, port: 0, readyLine: /worker polling/ },
    worker2: { name: 'worker2', command: node, args: tsx('workers/worker.ts'), env: services, port: 0, readyLine: /worker polling/ },
    api: { name: 'api', command: node, args: tsx('api/main.ts'), env: { ...services, PORT: String(apiPort), HOST: '127.0.0.1' }, port: apiPort, readyLine: /API listening/ },
  };
  const logs = new Map<PieceName, WriteStream>();
  const tails = new Map<PieceName, string>();
  const unexpectedExits: string[] = [];
  let closing = false;

  async function start(p: Piece): Promise<void> {
    let out = logs.get(p.name);
    if (!out) {
      out = createWriteStream(path.join(logDir, `${p.name}.log`), { flags: 'a' });
      logs.set(p.name, out);
    }
    let seen = '';
    const child = spawn(p.command, p.args, { env: { ...process.env, ...p.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    p.child = child;
    p.killed = false;
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      const text = chunk.toString();
      if (seen.length < 200_000) seen += text;
      tails.set(p.name, ((tails.get(p.name) ?? '') + text).slice(-4000));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      if (!p.killed && !closing) unexpectedExits.push(`${p.name} exited (${code ?? signal})`);
    });
    const context = () => `${p.name}'s last output:\n${tails.get(p.name) ?? ''}`;
    await waitFor(p.name, async () => {
      if (child.exitCode !== null) throw new Error(`${p.name} exited (${child.exitCode}) while starting\n${context()}`);
      return (p.port === 0 || (await portOpen(p.port))) && (!p.readyLine || p.readyLine.test(seen));
    }, 120_000, context);
  }

  async function kill(name: PieceName): Promise<void> {
    const p = pieces[name];
    const child = p.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    p.killed = true;
    const gone = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
    await gone;
    if (p.port) await waitFor(`${name}'s port to close`, async () => !(await portOpen(p.port)), 10_000, () => '');
  }

  const order: PieceName[] = ['redis', 'temporal', 'appStore', 'offlineModel'];
  try {
    await Promise.all(order.map((n) => start(pieces[n])));
    // The API migrates the app store and seeds the keys; the workers wait for Temporal.
    await start(pieces.api);
    await Promise.all([start(pieces.worker1), start(pieces.worker2)]);
  } catch (err) {
    closing = true;
    for (const p of Object.values(pieces)) await kill(p.name).catch(() => {});
    throw err;
  }

  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    offlineModelUrl: `http://127.0.0.1:${modelPort}`,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    unexpectedExits,
    kill,
    restart: (name) => start(pieces[name]),
    workerByIdentity: (identity) => (['worker1', 'worker2'] as const).find((w) => identity?.startsWith(`${pieces[w].child?.pid}@`)),
    tail: (name) => tails.get(name) ?? '',
    async close() {
      closing = true;
      for (const name of ['api', 'worker1', 'worker2', 'offlineModel', 'appStore', 'temporal', 'redis'] as PieceName[]) await kill(name).catch(() => {});
      for (const out of logs.values()) out.end();
      if (!opts.logDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

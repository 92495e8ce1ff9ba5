// `npm run bench:versioning`: does Temporal's Worker Versioning (Worker Deployments, PINNED) work on the dev
// server we run, and what does it cost a short turn? (1) A run pinned to version A finishes on A's worker
// after an incompatible version B became current, while a new run goes to B. (2) Start → first local
// activity, 30 runs each, p50/p95 ms: unversioned vs pinned, regular and eager start. Prints JSON.
// The README's "Changing the workflow" records what we decided from it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig, REPO_ROOT } from '../../../infra/config.ts';
import { createLogger } from '../../../infra/logger.ts';
import { defaultCliCacheDir, findOrBuildTemporalCli } from '../../../infra/dev/temporal-cli.ts';
import { freePort, startTemporal } from '../../../infra/dev/temporal-server.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const log = createLogger('warn', 'versioning');
const config = loadConfig({ ...process.env, TEMPORAL_ADDRESS: '' });
const cli = await findOrBuildTemporalCli({ explicitPath: config.TEMPORAL_CLI, cacheDir: defaultCliCacheDir(REPO_ROOT, config.TEMPORAL_CLI_CACHE_DIR), log });
if (!cli) throw new Error('this experiment drives the temporal CLI: none found or built');
const CLI = cli.path;
const t = await startTemporal(config, log, { inMemory: true, headless: true, port: await freePort() });
const conn = await Connection.connect({ address: t.address });
const client = new Client({ connection: conn });
const native = await NativeConnection.connect({ address: t.address });
const [bA, bB] = await Promise.all([bundleWorkflowCode({ workflowsPath: path.join(import.meta.dirname, 'workflows-a.ts'), logger: new DefaultLogger('ERROR') }), bundleWorkflowCode({ workflowsPath: path.join(import.meta.dirname, 'workflows-b.ts'), logger: new DefaultLogger('ERROR') })]);
let markAt = 0;
const activities = { mark: async () => { markAt = performance.now(); return 1; } };
const q = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!); };

async function latency(taskQueue: string, versioned: boolean, n = 30, eager = false) {
  // A client on the worker's connection can start eagerly (the first workflow task comes back in the reply).
  const eagerClient = new Client({ connection: native as unknown as Connection });
  const w = await Worker.create({ connection: native, taskQueue, workflowBundle: bA, activities,
    ...(versioned ? { workerDeploymentOptions: { useWorkerVersioning: true, version: { deploymentName: taskQueue, buildId: 'v1' }, defaultVersioningBehavior: 'PINNED' as const } } : {}) });
  const run = w.run();
  if (versioned) {
    await new Promise((r) => setTimeout(r, 1500));
    execFileSync(CLI, ['worker', 'deployment', 'set-current-version', '--address', t.address, '--deployment-name', taskQueue, '--build-id', 'v1', '--yes']);
  }
  const ms: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const t0 = performance.now();
    await (eager ? eagerClient : client).workflow.execute('quick', { taskQueue, workflowId: `${taskQueue}-${i}`, ...(eager ? { requestEagerStart: true } : {}) });
    if (i >= 3) ms.push(markAt - t0);
  }
  w.shutdown(); await run;
  return { p50: q(ms, 0.5), p95: q(ms, 0.95) };
}

const out: Record<string, unknown> = {};
try {
  // 1. Pinned runs stay on their version while a new, incompatible version becomes current.
  const tq = 'pin';
  const opts = (buildId: string) => ({ useWorkerVersioning: true as const, version: { deploymentName: 'chat', buildId }, defaultVersioningBehavior: 'PINNED' as const });
  const wA = await Worker.create({ connection: native, taskQueue: tq, workflowBundle: bA, activities, workerDeploymentOptions: opts('A'), identity: 'worker-A' });
  const runA = wA.run();
  await new Promise((r) => setTimeout(r, 1500));
  execFileSync(CLI, ['worker', 'deployment', 'set-current-version', '--address', t.address, '--deployment-name', 'chat', '--build-id', 'A', '--yes']);
  const h1 = await client.workflow.start('pinned', { taskQueue: tq, workflowId: 'run-1' });
  await new Promise((r) => setTimeout(r, 500));
  const wB = await Worker.create({ connection: native, taskQueue: tq, workflowBundle: bB, activities, workerDeploymentOptions: opts('B'), identity: 'worker-B' });
  const runB = wB.run();
  await new Promise((r) => setTimeout(r, 1500));
  execFileSync(CLI, ['worker', 'deployment', 'set-current-version', '--address', t.address, '--deployment-name', 'chat', '--build-id', 'B', '--yes']);
  const h2 = await client.workflow.start('pinned', { taskQueue: tq, workflowId: 'run-2' });
  await new Promise((r) => setTimeout(r, 500));
  await h1.signal('go'); await h2.signal('go');
  out.run1 = await h1.result(); out.run2 = await h2.result();
  const d1 = await h1.describe();
  out.run1Versioning = (d1.raw.workflowExecutionInfo as any)?.versioningInfo ?? null;
  const hist = await h1.fetchHistory();
  out.run1Identities = [...new Set(hist.events?.map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter(Boolean))];
  out.run2Identities = [...new Set((await h2.fetchHistory()).events?.map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter(Boolean))];
  wA.shutdown(); wB.shutdown(); await Promise.all([runA, runB]);
  // 2. Latency: start -> first local activity, unversioned vs pinned (same worker and workflow).
  out.unversioned = await latency('lat-plain', false);
  out.pinned = await latency('lat-pinned', true);
  out.unversioned2 = await latency('lat-plain2', false);
  out.eagerUnversioned = await latency('lat-eager', false, 30, true);
  out.eagerPinned = await latency('lat-eager-pinned', true, 30, true);
  out.eagerUnversioned2 = await latency('lat-eager2', false, 30, true);
} catch (err) {
  out.error = String((err as Error).stack ?? err);
} finally {
  console.log(JSON.stringify(out, null, 1));
  await native.close(); await conn.close(); await t.stop();
}

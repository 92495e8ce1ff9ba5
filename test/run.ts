// `npm test`: runs node's test runner over test/{unit,integration,replay,e2e}. When the selection has a
// file outside test/unit, it first checks Postgres and Redis and starts one in-memory Temporal dev server
// for the whole run (finding or building the temporal CLI); the unit suite alone needs no service.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig, REPO_ROOT } from '../infra/config.ts';
import { createLogger } from '../infra/logger.ts';
import { freePort, startTemporal } from '../infra/dev/temporal-server.ts';

const SUITES = ['unit', 'integration', 'replay', 'e2e'];

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return testFiles(full);
      return name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

const args = process.argv.slice(2);
const files = (args.length ? args : SUITES).flatMap((a) => {
  const asSuite = path.join(REPO_ROOT, 'test', a);
  if (SUITES.includes(a)) return testFiles(asSuite);
  return [path.resolve(a)];
});

const log = createLogger(process.env.LOG_LEVEL ?? 'info', 'test');
const unitDir = path.join(REPO_ROOT, 'test', 'unit') + path.sep;
const needsServices = files.some((f) => !f.startsWith(unitDir));
let temporal: Awaited<ReturnType<typeof startTemporal>> | undefined;
if (needsServices) {
  for (const [name, port, hint] of [
    ['PostgreSQL', 5432, 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'],
    ['Redis', 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'],
  ] as const) {
    if (!(await reachable(port))) {
      console.error(`${name} is not reachable on 127.0.0.1:${port}; the integration tests need it. Start it with:\n  ${hint}`);
      process.exit(1);
    }
  }
  // One dev server for every test file: starting it costs seconds, and each test uses its own task queue.
  const config = loadConfig({ ...process.env, TEMPORAL_ADDRESS: '' });
  temporal = await startTemporal(config, log, { inMemory: true, headless: true, port: await freePort() });
  log.info({ address: temporal.address, files: files.length }, 'Temporal dev server up; running tests');
}

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, ...(temporal ? { TEMPORAL_ADDRESS: temporal.address } : {}), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  },
);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    child.kill(sig);
    void (temporal?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
await temporal?.stop();
process.exit(code);

// The tenant's analytics database down, on the real stack: an analytics turn asked through the API while
// the tenant data points at a closed port, then at a server that accepts and never answers (a hung
// Postgres), ends with `done` saying the data is unavailable, the SQL step named in `fallbacks`, no
// `error`. And a pool whose connections Postgres kills (as on a restart), idle or in the middle of a
// query, never crashes the process.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../infra/db.ts';
import { activityDeps, runWorker } from '../../workers/runtime.ts';
import { CANNED_ANSWER_PREFIX } from '../../workflows/shared/answers.ts';
import { readSse } from '../helpers/sse.ts';
import { ensureTenantDatabase, fresh, startStack, type TestStack } from '../helpers/stack.ts';

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** A "Postgres" that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('tenant database down', () => {
  let stack: TestStack;
  before(async () => {
    // The API on the stack; the worker is this file's, with the tenant data pointed where each test says.
    stack = await startStack({ api: true, worker: false });
  });
  after(() => stack.close());

  async function askWithTenantDb(url: string) {
    const tenantDb = createPool(url, 2, { connectTimeoutMs: 1000 });
    const worker = await runWorker({
      address: stack.temporal.address,
      namespace: stack.temporal.namespace,
      deps: { ...activityDeps(stack.config, stack.stores, stack.messaging, stack.providers, stack.metrics), tenantDb },
      maxActivities: 20,
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      log: stack.log,
      codec: stack.codec,
    });
    try {
      const res = await fetch(`${stack.apiUrl}/v1/turns`, {
        method: 'POST',
        headers: { authorization: 'Bearer dev-acme-key', 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ sessionId: 'tenant-db-down', message: fresh('What was our revenue last month by category?') }),
      });
      assert.equal(res.status, 200);
      return await readSse(res);
    } finally {
      await worker.shutdown();
      await tenantDb.end();
    }
  }

  function assertDataUnavailable(events: Awaited<ReturnType<typeof askWithTenantDb>>) {
    const kinds = events.map((e) => e.event).join(' ');
    assert.equal(events.filter((e) => e.event === 'error').length, 0, kinds);
    assert.ok(!events.some((e) => e.event === 'sql' || e.event === 'chart'), kinds);
    const done = events.at(-1)!;
    assert.equal(done.event, 'done', kinds);
    assert.equal(done.data.intent, 'analytics');
    assert.ok(done.data.answer.startsWith(CANNED_ANSWER_PREFIX), done.data.answer);
    assert.match(done.data.answer, /data is unavailable/);
    assert.ok(done.data.fallbacks.includes('runSqlAgent:unavailable'), JSON.stringify(done.data.fallbacks));
    // No model was asked to write SQL for a database it cannot reach.
    assert.ok(!(done.data.calls ?? []).some((c: { step: string }) => c.step === 'runSqlAgent'), JSON.stringify(done.data.calls));
    const failed = events.find((e) => e.event === 'step' && e.data.name === 'runSqlAgent');
    assert.equal(failed?.data.status, 'failed');
    return done;
  }

  it('answers that the data is unavailable when the tenant database refuses connections', async (t) => {
    const done = assertDataUnavailable(await askWithTenantDb(`postgres://postgres@127.0.0.1:${await closedPort()}/tenants`));
    t.diagnostic(`done after ${done.data.timings.totalMs} ms, runSqlAgent ${done.data.timings.steps.runSqlAgent} ms`);
    // Stored like any other turn.
    const stored = await fetch(`${stack.apiUrl}/v1/turns/${done.data.turnId}`, { headers: { authorization: 'Bearer dev-acme-key' } });
    assert.equal(stored.status, 200);
    assert.equal(((await stored.json()) as { answer: string }).answer, done.data.answer);
  });

  it('answers that the data is unavailable when the tenant database accepts and never answers (connect timeout)', async (t) => {
    const silent = await silentServer();
    try {
      const done = assertDataUnavailable(await askWithTenantDb(`postgres://postgres@127.0.0.1:${silent.port}/tenants`));
      t.diagnostic(`done after ${done.data.timings.totalMs} ms (connect timeout 1000 ms), runSqlAgent ${done.data.timings.steps.runSqlAgent} ms`);
    } finally {
      await silent.close();
    }
  });

  it('a pool survives Postgres ending its connections, idle or mid-query (as on a restart), and reconnects', async () => {
    const url = await ensureTenantDatabase();
    const pool = createPool(url, 3);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // One connection mid-query, one checked out between two queries (as a transaction is), one idle in the pool.
      const pidOf = async (c: pg.PoolClient) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const busy = await pool.connect();
      const held = await pool.connect();
      const idle = await pool.connect();
      const pids = [await pidOf(busy), await pidOf(held), await pidOf(idle)];
      idle.release();
      // Settled at once into a value: its rejection must not count as unhandled while the terminate runs.
      const sleeping = busy.query('SELECT pg_sleep(30)').then(() => null, (err: Error) => err);
      await new Promise((r) => setTimeout(r, 200));
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1::int[])', [pids]);
      assert.ok((await sleeping) instanceof Error, 'the running query fails');
      // Give the connections' 'error' events time to fire while both are still checked out (an unhandled one
      // would end this process).
      await new Promise((r) => setTimeout(r, 500));
      assert.ok((await held.query('SELECT 1').then(() => null, (err: Error) => err)) instanceof Error, 'the held connection is gone');
      busy.release(true);
      held.release(true);
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
      assert.equal(rows[0]!.one, 1, 'the pool reconnects');
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});

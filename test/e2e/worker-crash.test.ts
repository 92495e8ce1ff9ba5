// A worker killed (SIGKILL) mid-turn while another worker runs: the other finishes the turn, continuing the
// answer from the text the client has, a client that reconnects with Last-Event-ID gets the rest of the
// stream, ending in exactly one `done`, and the pause the user sees is printed (timeouts sized for chat:
// workflow task 2 s, answer heartbeat 1 s).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../infra/config.ts';
import type { ProviderProfile } from '../../infra/dev/offline-model/server.ts';
import { answerFromTokens, readSse, type SseEvent } from '../helpers/sse.ts';
import { fresh, startStack, type TestStack } from '../helpers/stack.ts';
import { TEST_PAYLOAD_KEYS } from '../helpers/test-payload-keys.ts';

const ACME = { authorization: 'Bearer dev-acme-key' };

describe('worker killed mid-turn', () => {
  let stack: TestStack;
  const children: ChildProcess[] = [];

  before(async () => {
    // The API runs here; workers run as their own processes against the same Temporal, Redis and store.
    stack = await startStack({ api: true, worker: false });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await stack.close();
  });

  /** A production worker process (`npm run worker`) on the stack's shared offline model, as the README's split deployment runs. */
  function startWorker(): ChildProcess {
    const c = stack.config;
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'workers', 'worker.ts')], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        TEMPORAL_ADDRESS: stack.temporal.address,
        TEMPORAL_TASK_QUEUE: c.TEMPORAL_TASK_QUEUE,
        REDIS_URL: c.REDIS_URL!,
        DATABASE_URL: stack.stores.app.url,
        TENANT_DATABASE_URL: c.TENANT_DATABASE_URL!,
        SEED_ANCHOR_DATE: c.SEED_ANCHOR_DATE!,
        METRICS_PORT: '0',
        OFFLINE_MODEL_URL: stack.providers.offlineUrl!,
        // The stack's TEST ONLY key: API and workers of one deployment share their payload keys.
        PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  async function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`worker did not log ${pattern} in time:\n${seen.slice(-2000)}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        seen += chunk.toString();
        if (pattern.test(seen)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:\n${seen.slice(-2000)}`)));
    });
  }

  /** Two workers polling the same task queue. */
  async function twoWorkers(profiles: Record<'anthropic' | 'openai', Partial<ProviderProfile>>): Promise<ChildProcess[]> {
    stack.setProfile('anthropic', profiles.anthropic);
    stack.setProfile('openai', profiles.openai);
    const workers = [startWorker(), startWorker()];
    await Promise.all(workers.map((w) => waitForLine(w, /worker polling/)));
    return workers;
  }

  /** The worker process a Temporal identity (`pid@host`) names. */
  const byIdentity = (workers: ChildProcess[], identity: string | undefined) => workers.find((w) => identity?.startsWith(`${w.pid}@`));

  async function postTurn(message: string): Promise<{ turnId: string; workflowId: string; eventsUrl: string }> {
    const res = await fetch(`${stack.apiUrl}/v1/turns`, {
      method: 'POST',
      headers: { ...ACME, 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: 'crash', message }),
    });
    assert.equal(res.status, 202);
    return (await res.json()) as { turnId: string; workflowId: string; eventsUrl: string };
  }

  it('killed mid-answer: the other worker retries the answer after about 2 s, and nothing is lost', async () => {
    // Slow enough that the kill lands mid-answer.
    const workers = await twoWorkers({ anthropic: { ttftMs: 0, tokensPerSec: 12, jitterMs: 0 }, openai: { ttftMs: 0, tokensPerSec: 12, jitterMs: 0 } });
    const { turnId, workflowId, eventsUrl } = await postTurn(fresh('Hello! What can you do?'));

    // Read until a few tokens have arrived, then kill the worker running the answer and drop the connection.
    const abort = new AbortController();
    const before = await readSse(await fetch(stack.apiUrl + eventsUrl, { headers: ACME, signal: abort.signal }), {
      abort,
      stopAfter: (_e, all) => all.filter((x) => x.event === 'token').length >= 3,
    });
    const pending = (await stack.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
    const victim = byIdentity(workers, pending.find((a) => a.activityType?.name === 'generateAnswer')?.lastWorkerIdentity ?? undefined);
    assert.ok(victim, 'found the worker running the answer');
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    assert.ok(!before.some((e) => e.event === 'done'), 'the kill landed before the answer finished');

    // Reconnect at once, as a client would, and time when the retried answer's first token arrives.
    let firstRetryToken: number | null = null;
    const rest: SseEvent[] = await readSse(await fetch(stack.apiUrl + eventsUrl, { headers: { ...ACME, 'last-event-id': before.at(-1)!.id! } }), {
      stopAfter: (e) => {
        if (e.event === 'token' && e.data.attempt === 2) firstRetryToken ??= Date.now();
        return false;
      },
    });
    const doneAt = Date.now();
    console.log(`# worker killed mid-answer: the retry's first token arrived ${firstRetryToken! - killedAt} ms after the kill; done ${doneAt - killedAt} ms after`);

    const all = [...before, ...rest];
    const terminal = all.filter((e) => e.event === 'done' || e.event === 'error');
    assert.equal(terminal.length, 1);
    assert.equal(terminal[0]!.event, 'done');
    const done = terminal[0]!.data as { answer: string; fallbacks: string[] };
    const continued = rest.find((e) => e.event === 'step' && e.data.name === 'generateAnswer' && e.data.status === 'started' && e.data.attempt === 2);
    assert.ok(continued, 'a retry on the other worker took the answer over');
    // Everything the dead worker streamed (the client read some of it before, the rest after reconnecting).
    const streamedBeforeDeath = [...before, ...rest].filter((e) => e.event === 'token' && e.data.attempt === 1).map((e) => e.data.text as string).join('');
    assert.ok(streamedBeforeDeath.length >= answerFromTokens(before).length && streamedBeforeDeath.length > 0);
    assert.equal(continued.data.continuesFrom, streamedBeforeDeath.length, 'it continued from the text the client had, not from the start');
    assert.ok(firstRetryToken !== null, 'the retried answer streamed');
    assert.equal(answerFromTokens(all), done.answer);
    assert.deepEqual(done.fallbacks, [], 'a retry is not a fallback');

    const result = await fetch(`${stack.apiUrl}/v1/turns/${turnId}`, { headers: ACME });
    assert.equal(result.status, 200);
    assert.equal(((await result.json()) as { answer: string }).answer, done.answer);
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  });

  it('killed while capture and detect run: the other worker takes the turn over after about 1.5 s', async (t) => {
    // Capture and detect take 1.5 s, so the kill lands in them (regular activities beside a held answer, or
    // local ones inside a workflow task): the tenant has the model read every question (sure rules would skip them).
    const patch = (modelMode: string) =>
      fetch(`${stack.apiUrl}/v1/settings`, { method: 'PATCH', headers: { ...ACME, 'content-type': 'application/json' }, body: JSON.stringify({ understanding: { modelMode } }) }).then((r) => assert.equal(r.status, 200));
    await patch('always');
    t.after(() => patch('when-unsure'));
    const workers = await twoWorkers({ anthropic: { ttftMs: 1500, tokensPerSec: 0, jitterMs: 0 }, openai: { ttftMs: 1500, tokensPerSec: 0, jitterMs: 0 } });
    const { workflowId, eventsUrl } = await postTurn(fresh('What is your shipping policy for orders abroad?'));
    const handle = stack.client.workflow.getHandle(workflowId);
    let identity: string | undefined;
    while (!identity) {
      const history = await handle.fetchHistory();
      identity = history.events?.find((e) => e.workflowTaskStartedEventAttributes)?.workflowTaskStartedEventAttributes?.identity ?? undefined;
      if (!identity) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300)); // into the understanding calls
    const victim = byIdentity(workers, identity)!;
    victim.kill('SIGKILL');
    const killedAt = Date.now();

    const events = await readSse(await fetch(stack.apiUrl + eventsUrl, { headers: ACME }));
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, 'the turn finished on the other worker');
    const history = await handle.fetchHistory();
    const timedOut = history.events?.filter((e) => e.workflowTaskTimedOutEventAttributes).length ?? 0;
    assert.ok(timedOut >= 1, 'the dead worker’s task timed out and was handed over');
    const takenOver = history.events?.find((e) => e.workflowTaskStartedEventAttributes && e.workflowTaskStartedEventAttributes.identity !== identity);
    const takenOverAt = Number(takenOver?.eventTime?.seconds ?? 0) * 1000 + Math.round((takenOver?.eventTime?.nanos ?? 0) / 1e6);
    console.log(`# worker killed in a workflow task: another worker started it ${takenOverAt - killedAt} ms after the kill; done ${Date.now() - killedAt} ms after`);
    for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  });
});

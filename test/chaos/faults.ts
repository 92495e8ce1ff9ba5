// One fault against a running split deployment, as users see it: a few slow turns are streaming when one
// piece is killed; about 3 s later it is started again. Each client follows its turn's SSE stream the way
// the README says a client should: on a broken stream it reconnects with Last-Event-ID. What the row says:
// did every turn end exactly once, is every streamed answer whole (the tokens joined are `done.answer`: no
// repeated or erased text), is every turn stored, and the longest pause a client saw in its answer.
import { Connection } from '@temporalio/client';
import { readSse, type SseEvent } from '../helpers/sse.ts';
import type { PieceName, SplitDeployment } from './deployment.ts';

export type FaultName = 'api' | 'appStore' | 'temporal' | 'worker' | 'redis' | 'providers';

/** What each fault does, and the pause the user may see given how long the piece was down (null: no target, the figure is reported). */
export const FAULTS: Record<FaultName, { label: string; pauseTargetMs: (downMs: number) => number | null }> = {
  api: { label: 'API killed and restarted', pauseTargetMs: () => null },
  appStore: { label: 'app store (PGlite) killed and restarted', pauseTargetMs: () => 2000 },
  temporal: { label: 'Temporal server killed and restarted', pauseTargetMs: () => 2000 },
  worker: { label: 'one of two workers killed', pauseTargetMs: () => 2000 },
  redis: { label: 'Redis killed and restarted', pauseTargetMs: (downMs) => downMs + 1000 },
  providers: { label: 'provider storm: every call 429 (Retry-After 2 s)', pauseTargetMs: () => null },
};

/** One row of the chaos table. */
export interface FaultRow {
  fault: FaultName;
  label: string;
  turns: number;
  /** Turns whose client got exactly one terminal event, a `done`. */
  endedOnce: number;
  /** Turns whose streamed tokens, joined, are exactly `done.answer`. */
  whole: number;
  /** Turns `GET /v1/turns/:id` returns with that answer. */
  stored: number;
  /** Turns with no terminal event before the deadline. */
  lost: number;
  /** `error` events the clients saw (e.g. stream_unavailable). */
  streamErrors: number;
  /** From the kill until the piece served again, ms (a provider storm: until its turns ended). */
  downMs: number;
  /** The turns, for a later fault's checks. */
  turnRefs: { turnId: string; eventsUrl: string }[];
  /**
   * During a Redis outage: whether a client reconnecting to a turn that had ended got its `done` (from the
   * stored turn) within 5 s, and what a new turn was answered (503 with Retry-After: the turn cannot be admitted).
   */
  redisOutage?: { endedTurnDone: boolean | null; newTurn: { status: number; retryAfter: string | null } };
  /** A provider storm: model calls per turn during it, and whether the turns after it were answered by a provider. */
  storm?: { callsPerTurn: number; answeredAfter: number };
  /** The longest gap between two answer events (token or done) any client saw, ms. */
  maxPauseMs: number;
  pauseTargetMs: number | null;
  /** Pieces that exited without being killed. */
  exits: string[];
  /** The API's /healthz checks and its `turnflow_dependency_up` values during the outage (not for the API's own). */
  health: { checks: Record<string, string>; up: Record<string, number> } | null;
  ok: boolean;
  /** Why a row is not ok, for a test's message. */
  problems: string[];
}

const ACME = { authorization: 'Bearer dev-acme-key' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Followed {
  turnId: string;
  workflowId: string;
  events: SseEvent[];
  /** Arrival time of each answer event (token, done). */
  answerTimes: number[];
  terminals: SseEvent[];
  streamErrors: number;
}

/** Follows a turn's stream to its end, reconnecting with Last-Event-ID whenever the stream breaks. */
async function follow(apiUrl: string, t: { turnId: string; workflowId: string; eventsUrl: string }, deadline: number, onEvent: () => void): Promise<Followed> {
  const f: Followed = { turnId: t.turnId, workflowId: t.workflowId, events: [], answerTimes: [], terminals: [], streamErrors: 0 };
  let last: string | undefined;
  while (Date.now() < deadline && !f.terminals.length) {
    try {
      const res = await fetch(apiUrl + t.eventsUrl, {
        headers: { ...ACME, accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        await sleep(200);
        continue;
      }
      await readSse(res, {
        stopAfter: (e) => {
          if (e.event === 'error' && e.data?.code === 'stream_unavailable') {
            f.streamErrors++;
            return false;
          }
          if (e.id) last = e.id;
          f.events.push(e);
          if (e.event === 'token' || e.event === 'done') f.answerTimes.push(Date.now());
          if (e.event === 'done' || e.event === 'error') f.terminals.push(e);
          onEvent();
          return f.terminals.length > 0;
        },
      });
    } catch {
      // The API is down or the connection broke: reconnect, as the browser's EventSource would.
    }
    if (!f.terminals.length) await sleep(200);
  }
  return f;
}

async function storedAnswer(apiUrl: string, turnId: string, deadline: number): Promise<string | null> {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${apiUrl}/v1/turns/${turnId}`, { headers: ACME, signal: AbortSignal.timeout(5000) });
      if (res.status === 200) {
        const body = (await res.json()) as { answer?: string };
        if (typeof body.answer === 'string') return body.answer;
      } else await res.body?.cancel();
    } catch {
      // not yet
    }
    await sleep(500);
  }
  return null;
}

async function apiHealth(apiUrl: string): Promise<FaultRow['health']> {
  await sleep(300);
  const [h, m] = await Promise.all([
    fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.json() as Promise<{ checks: Record<string, string> }>),
    fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text()),
  ]);
  const up: Record<string, number> = {};
  for (const match of m.matchAll(/^turnflow_dependency_up\{dependency="(\w+)"\} (\d)/gm)) up[match[1]!] = Number(match[2]);
  return { checks: h.checks, up };
}

async function setProfiles(dep: SplitDeployment, profile: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${dep.offlineModelUrl}/_offline/profiles`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ anthropic: profile, openai: profile }) });
  if (!res.ok) throw new Error(`could not set the offline model's profiles: ${res.status} ${await res.text()}`);
}

/** While Redis is down: a client reconnecting to a turn that ended, and a new turn. */
async function duringRedisOutage(apiUrl: string, endedTurn: { eventsUrl: string } | undefined): Promise<NonNullable<FaultRow['redisOutage']>> {
  await sleep(300);
  let endedTurnDone: boolean | null = null;
  if (endedTurn) {
    try {
      const res = await fetch(apiUrl + endedTurn.eventsUrl, { headers: { ...ACME, accept: 'text/event-stream', 'last-event-id': '0-1' }, signal: AbortSignal.timeout(5000) });
      endedTurnDone = (await readSse(res, { stopAfter: (e) => e.event === 'done' })).some((e) => e.event === 'done');
    } catch {
      endedTurnDone = false;
    }
  }
  const res = await fetch(`${apiUrl}/v1/turns`, {
    method: 'POST',
    headers: { ...ACME, 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId: `chaos-redis-new-${Date.now()}`, message: 'Hello! Are you there?' }),
    signal: AbortSignal.timeout(5000),
  });
  await res.body?.cancel();
  return { endedTurnDone, newTurn: { status: res.status, retryAfter: res.headers.get('retry-after') } };
}

/** Slow answers (about 6 s of streaming), so a fault lands mid-answer on every turn; no injected errors. */
export async function slowAnswers(dep: SplitDeployment, tokensPerSec = 20): Promise<void> {
  await setProfiles(dep, { ttftMs: 150, tokensPerSec, jitterMs: 0, errorRate: 0, stallRate: 0, retryAfterSec: null });
}

/** The worker running most of these turns' answers now. */
async function busiestWorker(dep: SplitDeployment, workflowIds: string[]): Promise<PieceName> {
  const connection = await Connection.connect({ address: dep.temporalAddress });
  try {
    const counts = new Map<PieceName, number>();
    for (const id of workflowIds) {
      // The raw call: nothing to decode (payloads are encrypted with the deployment's key).
      const pending = (await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: id } })).pendingActivities ?? [];
      const w = dep.workerByIdentity(pending.find((a) => a.activityType?.name === 'generateAnswer')?.lastWorkerIdentity ?? undefined);
      if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'worker1';
  } finally {
    await connection.close();
  }
}

/** Runs one fault with `turns` slow turns in flight; the piece stays down for `outageMs`. */
export async function runFault(
  dep: SplitDeployment,
  fault: FaultName,
  opts: { turns?: number; outageMs?: number; timeoutMs?: number; endedTurn?: { turnId: string; eventsUrl: string } } = {},
): Promise<FaultRow> {
  const n = opts.turns ?? 4;
  const outageMs = opts.outageMs ?? 3000;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const exitsBefore = dep.unexpectedExits.length;
  const messages = ['Hello! What can you do?', 'Hi there, what kinds of questions can you answer?', 'Good morning! How can you help me today?', 'Hey! What do you do?', 'Hello, who are you?', 'Hi! Tell me what you can help with.'];
  const startTurns = (count: number, tag: string) =>
    Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const res = await fetch(`${dep.apiUrl}/v1/turns`, {
          method: 'POST',
          headers: { ...ACME, 'content-type': 'application/json' },
          body: JSON.stringify({ sessionId: `chaos-${tag}-${i}-${Date.now()}`, message: `${messages[i % messages.length]} (${tag} ${Date.now()}-${i})` }),
        });
        if (res.status !== 202) throw new Error(`POST /v1/turns answered ${res.status}: ${await res.text()}`);
        return (await res.json()) as { turnId: string; workflowId: string; eventsUrl: string };
      }),
    );
  if (fault === 'providers') {
    // Every call of every provider refused with 429 and Retry-After: the turns must still end, with canned answers.
    await setProfiles(dep, { errorRate: 1, errorStatus: 429, retryAfterSec: 2 });
    await fetch(`${dep.offlineModelUrl}/_offline/reset-stats`, { method: 'POST' });
  }
  const stormStarted = Date.now();
  const started = await startTurns(n, fault);
  const progress = new Map<string, number>();
  let allStreaming: () => void = () => {};
  const streaming = new Promise<void>((r) => (allStreaming = r));
  const clients = started.map((t) =>
    follow(dep.apiUrl, t, deadline, () => {
      progress.set(t.turnId, (progress.get(t.turnId) ?? 0) + 1);
      if (started.every((s) => (progress.get(s.turnId) ?? 0) >= 6)) allStreaming();
    }),
  );
  let health: FaultRow['health'] = null;
  let downMs: number;
  let storm: FaultRow['storm'];
  let redisOutage: FaultRow['redisOutage'];
  let followed: Followed[];
  if (fault === 'providers') {
    followed = await Promise.all(clients);
    downMs = Date.now() - stormStarted;
    const stats = (await (await fetch(`${dep.offlineModelUrl}/_offline/stats`)).json()) as { requests: Record<string, number> };
    const calls = Object.values(stats.requests).reduce((a, b) => a + b, 0);
    // The storm passes: the next turns are answered by a provider again (no canned answer, no herd held back).
    await slowAnswers(dep);
    const after = await Promise.all((await startTurns(n, 'after-storm')).map((t) => follow(dep.apiUrl, t, deadline, () => {})));
    const answeredAfter = after.filter((f) => f.terminals[0]?.event === 'done' && (f.terminals[0].data as { provider?: string }).provider).length;
    storm = { callsPerTurn: Math.round((calls / n) * 10) / 10, answeredAfter };
  } else {
    // Mid-answer on every turn: each client has a few tokens.
    await Promise.race([streaming, sleep(30_000)]);
    const piece: PieceName = fault === 'worker' ? await busiestWorker(dep, started.map((s) => s.workflowId)) : fault;
    const killedAt = Date.now();
    await dep.kill(piece);
    // What the API says of its dependencies during the outage (/healthz and the dependency gauge).
    [health, redisOutage] = await Promise.all([
      fault === 'api' ? null : apiHealth(dep.apiUrl),
      fault === 'redis' ? duringRedisOutage(dep.apiUrl, opts.endedTurn) : undefined,
      sleep(outageMs),
    ]);
    await dep.restart(piece);
    // From the kill to the piece serving again (its start included).
    downMs = Date.now() - killedAt;
    followed = await Promise.all(clients);
  }

  const problems: string[] = [];
  let endedOnce = 0;
  let whole = 0;
  let stored = 0;
  let maxPauseMs = 0;
  let streamErrors = 0;
  for (const f of followed) {
    streamErrors += f.streamErrors;
    const done = f.terminals.length === 1 && f.terminals[0]!.event === 'done' ? (f.terminals[0]!.data as { answer: string }) : null;
    if (done) endedOnce++;
    else problems.push(`${f.turnId}: ${f.terminals.length} terminal events (${f.terminals.map((e) => e.event).join(', ') || 'none'})`);
    const text = f.events.filter((e) => e.event === 'token').map((e) => e.data.text as string).join('');
    if (done && text === done.answer) whole++;
    else if (done) problems.push(`${f.turnId}: streamed ${text.length} characters for a ${done.answer.length}-character answer`);
    for (let i = 1; i < f.answerTimes.length; i++) maxPauseMs = Math.max(maxPauseMs, f.answerTimes[i]! - f.answerTimes[i - 1]!);
    const answer = await storedAnswer(dep.apiUrl, f.turnId, Math.max(deadline, Date.now() + 30_000));
    if (answer !== null && (!done || answer === done.answer)) stored++;
    else problems.push(`${f.turnId}: not stored${answer !== null ? ' with the streamed answer' : ''}`);
  }
  const exits = dep.unexpectedExits.slice(exitsBefore);
  if (exits.length) problems.push(...exits);
  if (streamErrors) problems.push(`${streamErrors} stream errors`);
  const pauseTargetMs = FAULTS[fault].pauseTargetMs(downMs);
  if (pauseTargetMs !== null && maxPauseMs > pauseTargetMs) problems.push(`longest pause ${maxPauseMs} ms > ${pauseTargetMs} ms`);
  if (redisOutage?.endedTurnDone === false) problems.push('a client reconnecting to an ended turn during the Redis outage got no done');
  if (redisOutage && redisOutage.newTurn.status !== 503) problems.push(`a new turn during the Redis outage was answered ${redisOutage.newTurn.status}, not 503`);
  if (storm && storm.answeredAfter < n) problems.push(`after the storm only ${storm.answeredAfter} of ${n} turns were answered by a provider`);
  if (storm && storm.callsPerTurn > 12) problems.push(`${storm.callsPerTurn} model calls per turn during the storm (retries unbounded?)`);
  const lost = followed.filter((f) => !f.terminals.length).length;
  return {
    fault,
    label: FAULTS[fault].label,
    turns: n,
    endedOnce,
    whole,
    stored,
    lost,
    streamErrors,
    downMs,
    ...(storm ? { storm } : {}),
    ...(redisOutage ? { redisOutage } : {}),
    turnRefs: started.map((t) => ({ turnId: t.turnId, eventsUrl: t.eventsUrl })),
    maxPauseMs,
    pauseTargetMs,
    exits,
    health,
    ok: problems.length === 0,
    problems,
  };
}

/** The table `npm run chaos` prints. */
export function chaosTable(rows: FaultRow[]): string {
  const lines = [
    '| fault | down for | turns in flight | ended once | whole answers | stored | longest pause | |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const pause = r.storm ? `canned; ${r.storm.callsPerTurn} model calls a turn; after it ${r.storm.answeredAfter}/${r.turns} answered by a provider` : `${r.maxPauseMs} ms${r.pauseTargetMs !== null ? ` (≤ ${r.pauseTargetMs})` : ''}`;
      return `| ${r.label} | ${(r.downMs / 1000).toFixed(1)} s | ${r.turns} | ${r.endedOnce} | ${r.whole} | ${r.stored} | ${pause} | ${r.ok ? '✔' : `✘ ${r.problems.join('; ')}`} |`;
    }),
  ];
  return lines.join('\n');
}

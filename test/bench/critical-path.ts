// The benchmark's critical-path phase: new questions of each kind, one at a time, on two tenants that
// differ only in what waits for what. `before`: the model always reads the question, nothing is
// speculated, the model writes every query (the turn as it was). `after`: the product's defaults (the
// rules' reading stands when sure, the answer is speculated and held, the semantic layer compiles SQL).
// Per kind: the first token as the client saw it, the answer call's own first token, the time added before
// it, and the steps that were on the way, read from the turn's own record (`done.calls`, `done.timings`).
import type { TenantSettingsPatch } from '../../activities/tenant/settings.ts';
import type { ModelCall, TurnResult } from '../../workflows/shared/contract.ts';

/** The settings that bring back the turn's critical path before the speculate-then-confirm work. */
export const BEFORE_CRITICAL_PATH: TenantSettingsPatch = {
  understanding: { modelMode: 'always' },
  pipeline: { speculate: false, compileSql: false },
};
/** The product's defaults. */
export const AFTER_CRITICAL_PATH: TenantSettingsPatch = {
  understanding: { modelMode: 'when-unsure' },
  pipeline: { speculate: true, compileSql: true },
};

/** The kinds of turn, each with fresh questions (a tag makes every message new; the caches never answer). */
export const PATH_KINDS = {
  'small talk': (i: number) => `${['Hi there! Nice to meet you.', 'Hello! How are you today?', 'Good morning!', 'Hey, thanks for the help!'][i % 4]}`,
  'policy question': (i: number) => `${['What is your return policy?', 'How does shipping work?', 'What is your warranty policy?', 'Which payment methods do you accept?'][i % 4]}`,
  'analytics, compiles': (i: number) => `What was our revenue by category in ${['March', 'April', 'May', 'June', 'July', 'August'][i % 6]} 202${4 + (i % 2)}?`,
  'analytics, model writes SQL': (i: number) => `Break it down by channel for ${['March', 'April', 'May', 'June', 'July', 'August'][i % 6]} 202${4 + (i % 2)}`,
} as const;
export type PathKind = keyof typeof PATH_KINDS;

/** One turn as the critical-path table reads it. */
export interface PathSample {
  config: 'before' | 'after';
  kind: PathKind;
  firstTokenMs: number;
  /** The answer race's own time to its first token (from the race's start: a hedged winner's delay counts). */
  answerTtftMs: number | null;
  addedMs: number | null;
  path: string;
  /** The query's own time (0: none ran). */
  sqlMs: number;
  /** The SQL-writing model calls' time (0: compiled, or no data). */
  sqlCallMs: number;
  compiled: boolean;
  done: TurnResult;
}

const quantile = (xs: number[], q: number): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

/** The answer call whose tokens reached the user. */
function answerCall(calls: readonly ModelCall[]): ModelCall | undefined {
  return calls.find((c) => c.step === 'generateAnswer' && (c.outcome === 'won' || c.outcome === 'speculative-won'));
}

/** The steps on the way to the first token, from the turn's record. */
export function pathOf(done: TurnResult): string {
  const calls = done.calls ?? [];
  const has = (step: string) => calls.some((c) => c.step === step);
  const steps = done.timings.steps;
  const understanding = (has('captureSlots') || has('detectIntent') ? 'capture ∥ detect' : 'rules') + (has('reconcileIntent') ? ' → reconcile' : '');
  const parts: string[] = [];
  if (steps['runSqlAgent'] !== undefined) parts.push(steps['runSqlAgent.compiled'] ? 'SQL (compiled)' : 'SQL (model)');
  if (steps['retrieveKnowledge'] !== undefined) parts.push('retrieval');
  const speculative = calls.some((c) => c.outcome === 'speculative-won');
  if (speculative) return `${understanding} ∥ [${[...parts, 'held answer'].join(' → ')}]`;
  return [understanding, ...parts, 'answer'].join(' → ');
}

/** Reads a turn's `done` into a sample. */
export function pathSample(config: PathSample['config'], kind: PathKind, firstTokenMs: number, done: TurnResult): PathSample {
  // The race's own first token: from the answer step's start (a hedged winner started later) to its first token.
  const winner = answerCall(done.calls ?? []);
  const answerTtftMs = winner && winner.ttftMs !== null ? winner.startMs + winner.ttftMs : null;
  return {
    config,
    kind,
    firstTokenMs,
    answerTtftMs,
    addedMs: answerTtftMs === null ? null : firstTokenMs - answerTtftMs,
    path: pathOf(done),
    sqlMs: done.timings.steps['runSqlAgent.execute'] ?? 0,
    sqlCallMs: (done.calls ?? []).filter((c) => c.step === 'runSqlAgent').reduce((a, c) => a + c.ms, 0),
    compiled: Boolean(done.timings.steps['runSqlAgent.compiled']),
    done,
  };
}

/** The table's rows: per kind and configuration, medians and p95s, and the most common path. */
export function pathRows(samples: PathSample[]) {
  const rows = [];
  for (const kind of Object.keys(PATH_KINDS) as PathKind[]) {
    for (const config of ['before', 'after'] as const) {
      const mine = samples.filter((s) => s.kind === kind && s.config === config);
      const added = mine.map((s) => s.addedMs).filter((x): x is number => x !== null);
      const paths = new Map<string, number>();
      for (const s of mine) paths.set(s.path, (paths.get(s.path) ?? 0) + 1);
      const path = [...paths.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
      rows.push({
        kind,
        config,
        turns: mine.length,
        firstTokenP50Ms: round(quantile(mine.map((s) => s.firstTokenMs), 0.5)),
        answerTtftP50Ms: round(quantile(mine.map((s) => s.answerTtftMs).filter((x): x is number => x !== null), 0.5)),
        addedP50Ms: round(quantile(added, 0.5)),
        addedP95Ms: round(quantile(added, 0.95)),
        queryP50Ms: round(quantile(mine.map((s) => s.sqlMs), 0.5)),
        sqlCallP50Ms: round(quantile(mine.map((s) => s.sqlCallMs), 0.5)),
        compiled: `${mine.filter((s) => s.compiled).length}/${mine.length}`,
        path,
      });
    }
  }
  return rows;
}

const round = (x: number | null) => (x === null ? null : Math.round(x));

/** Speculative waste over a set of turns: discarded calls' tokens and list cost, against the answers' tokens. */
export function speculationWaste(dones: TurnResult[]) {
  let wastedTokens = 0;
  let wastedUsd = 0;
  let answerTokens = 0;
  let speculated = 0;
  for (const d of dones) {
    const calls = d.calls ?? [];
    if (calls.some((c) => c.outcome === 'speculative-won' || c.outcome === 'speculative-discarded')) speculated++;
    for (const c of calls) {
      if (c.step !== 'generateAnswer') continue;
      if (c.outcome === 'speculative-discarded') {
        wastedTokens += c.usage.outputTokens;
        wastedUsd += c.listCostUsd;
      } else if (c.outcome === 'won' || c.outcome === 'speculative-won' || c.outcome === 'continuation') answerTokens += c.usage.outputTokens;
    }
  }
  const per1000 = (x: number) => (dones.length ? (1000 * x) / dones.length : 0);
  return {
    turns: dones.length,
    speculated,
    wastedOutputTokensPer1000Turns: Math.round(per1000(wastedTokens)),
    wastedListUsdPer1000Turns: Math.round(per1000(wastedUsd) * 10_000) / 10_000,
    wasteShareOfAnswerTokens: answerTokens ? Math.round((1000 * wastedTokens) / answerTokens) / 1000 : 0,
  };
}

/** Share of analytics turns whose query the semantic layer compiled, among those that ran one. */
export function compiledShare(dones: TurnResult[]): { ran: number; compiled: number } {
  const ran = dones.filter((d) => d.timings.steps['runSqlAgent'] !== undefined && d.cache === 'none');
  return { ran: ran.length, compiled: ran.filter((d) => d.timings.steps['runSqlAgent.compiled']).length };
}

/** One bar of the timeline chart: a step of one turn, ms after the request. */
export interface TimelineBar {
  turn: string;
  step: string;
  start: number;
  end: number;
}

/**
 * The timeline of one turn, from its record: every step's measured duration, placed where the turn's
 * critical path puts it (understanding first, or beside the held answer; data and documents; the answer's
 * race to its first token), and the rest of the time to the client's first token as orchestration.
 */
export function timelineOf(label: string, firstTokenMs: number, done: TurnResult): TimelineBar[] {
  const calls = done.calls ?? [];
  const steps = done.timings.steps;
  const ms = (step: string) => Math.max(0, ...calls.filter((c) => c.step === step).map((c) => c.startMs + c.ms));
  const bars: TimelineBar[] = [];
  const bar = (step: string, start: number, length: number) => {
    if (length > 0) bars.push({ turn: label, step, start: Math.round(start), end: Math.round(start + length) });
    return start + length;
  };
  const understanding = Math.max(ms('captureSlots'), ms('detectIntent'));
  const reconcile = ms('reconcileIntent');
  const sql = ms('runSqlAgent') + (steps['runSqlAgent.execute'] ?? 0) + (steps['runSqlAgent.compiled'] ? (steps['runSqlAgent.validate'] ?? 0) : 0);
  const docs = steps['retrieveKnowledge'] ?? 0;
  const winner = answerCall(calls);
  const answer = winner && winner.ttftMs !== null ? winner.startMs + winner.ttftMs : 0;
  const speculative = winner?.outcome === 'speculative-won';
  let t = bar('cache lookups (API)', 0, Math.max(steps['lookupExactCache'] ?? 0, steps['searchSemanticCache'] ?? 0));
  let ready: number;
  if (speculative) {
    // The model's reading ran beside the held answer: its own row, under the turn's.
    const beside = (step: string, start: number, length: number) => {
      if (length > 0) bars.push({ turn: `${label} · model reading`, step, start: Math.round(start), end: Math.round(start + length) });
      return start + length;
    };
    const understood = beside('reconcile (model)', beside('capture ∥ detect (model)', t, understanding), reconcile);
    const dataAt = Math.max(bar('retrieval', t, docs), bar(steps['runSqlAgent.compiled'] ? 'SQL (compiled) + query' : 'SQL (model) + query', t, sql));
    const answerAt = bar('answer: race to first token (held)', dataAt, answer);
    ready = Math.max(understood, answerAt);
  } else {
    t = bar('reconcile (model)', bar('capture ∥ detect (model)', t, understanding), reconcile);
    t = Math.max(bar('retrieval', t, docs), bar(steps['runSqlAgent.compiled'] ? 'SQL (compiled) + query' : 'SQL (model) + query', t, sql));
    ready = bar('answer: race to first token', t, answer);
  }
  bars.push({ turn: label, step: 'orchestration (workflow rounds, dispatch, streaming)', start: Math.round(Math.min(ready, firstTokenMs)), end: Math.round(Math.max(ready, firstTokenMs)) });
  return bars;
}

/** A Vega-Lite Gantt chart of the timelines (rendered by the product's own chart renderer). */
export function timelineSpec(order: string[], title: string): object {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: 'one turn of each kind (the median first token of its kind); bars: measured step durations placed on the turn’s critical path' },
    data: { name: 'table' },
    width: 720,
    height: { step: 26 },
    mark: { type: 'bar', cornerRadius: 2, opacity: 0.85 },
    encoding: {
      y: { field: 'turn', type: 'nominal', sort: order, title: null, axis: { labelLimit: 400 } },
      x: { field: 'start', type: 'quantitative', title: 'ms after the request (first token at the end of the last bar)' },
      x2: { field: 'end' },
      color: { field: 'step', type: 'nominal', title: 'step', legend: { orient: 'bottom', columns: 2, labelLimit: 420 } },
    },
  };
}

/** The timeline bars of the median turn (by first token) of each kind and configuration. */
export function timelines(samples: PathSample[]): { bars: TimelineBar[]; order: string[] } {
  const bars: TimelineBar[] = [];
  const order: string[] = [];
  for (const kind of Object.keys(PATH_KINDS) as PathKind[]) {
    for (const config of ['before', 'after'] as const) {
      const mine = samples.filter((s) => s.kind === kind && s.config === config).sort((a, b) => a.firstTokenMs - b.firstTokenMs);
      const median = mine[Math.floor((mine.length - 1) / 2)];
      if (!median) continue;
      const label = `${kind}, ${config}`;
      const turnBars = timelineOf(label, median.firstTokenMs, median.done);
      for (const b of turnBars) if (!order.includes(b.turn)) order.push(b.turn);
      bars.push(...turnBars);
    }
  }
  return { bars, order };
}

// Hedged racing of answer providers on the first content token, with stall failover.
//
// The first candidate starts at once; each next one starts a hedge delay after the previous start, or at
// once when a running one fails before its first token. The first to produce a content token (not the
// first HTTP response: a provider can answer headers quickly and think for seconds) wins; every other
// call is aborted through its SDK signal, so it stops consuming tokens, and what it had used is still
// counted. Once streaming, a winner that goes quiet for the stall timeout (or whose stream breaks) is
// aborted and another provider continues from the text already streamed: the user sees one answer that
// carries on, never a restart. All of this runs inside one activity, in one process: see the README for
// why the race is not a workflow-level race of activities.
import type { ModelCall, ModelCallOutcome } from '../../workflows/shared/contract.ts';
import { ProviderError, stoppedAs, type ChatProvider, type ProviderName, type StopOutcome, type StreamRequest, type StreamResult } from '../../infra/llm/provider.ts';

/** One provider the race may start. */
export interface RaceCandidate {
  name: ProviderName;
  provider: Pick<ChatProvider, 'stream'>;
  model: string;
}

/** How a race is run. */
export interface RaceOptions {
  /** In start order (the caller puts providers cooling down after a Retry-After last). */
  candidates: RaceCandidate[];
  /** Delay from one start to the next while no token has come; null: start the next only after a failure. */
  hedgeDelayMs: number | null;
  /** A streaming answer with no token for this long (or a continuation with no first token) fails over. */
  stallTimeoutMs: number;
  /** Epoch ms by which a first content token must have come; after it the race ends with a timeout. */
  firstTokenDeadline?: number;
  /** Failovers allowed after the first token (each continues on another provider). */
  maxFailovers?: number;
  request: Omit<StreamRequest, 'signal' | 'onToken' | 'model' | 'continueFrom'>;
  /**
   * The answer so far, streamed by an earlier attempt the user already has: every call continues it (as a
   * stall failover does) and `text` starts with it. `onToken` gets only what follows.
   */
  continueFrom?: string;
  /** Cancellation of the whole race (the activity's). */
  signal: AbortSignal;
  /** The streamed answer, in order: the winner's tokens, then any continuation's. */
  onToken(text: string): void;
  /** A failover happened (for the turn's stream and logs). */
  onFailover?(from: ProviderName, to: ProviderName, reason: string): void;
  now?: () => number;
}

/** A finished call of the race, before pricing. */
export interface RaceCall extends Omit<ModelCall, 'step' | 'costUsd' | 'listCostUsd'> {
  provider: ProviderName;
  /** The model the provider reported, when it reported one. */
  reportedModel?: string;
  /** The provider's Retry-After on a failure. */
  retryAfterMs?: number;
}

/** The race's outcome. */
export interface RaceResult {
  text: string;
  winner: ProviderName;
  /** The winner's reported model (or the one asked for). */
  model: string;
  calls: RaceCall[];
  failovers: number;
  /** The winner's first token, ms after the race started. */
  ttftMs: number;
  stopReason: string | null;
}

/** No provider produced a complete answer. */
export class RaceError extends Error {
  constructor(
    message: string,
    readonly calls: RaceCall[],
    /** `deadline`: no first token before the turn's deadline; `cancelled`; `failed`: every provider failed. */
    readonly reason: 'failed' | 'deadline' | 'cancelled',
    /** Whether trying again can help: false when every provider refused the request (400/401/404). */
    readonly retryable: boolean,
    /** Set when every failed provider asked to be left alone: the shortest of their Retry-Afters. */
    readonly retryAfterMs: number | undefined,
    /** Text already streamed to the user before the last failure (a retry continues from it, read from the stream). */
    readonly partialText: string,
  ) {
    super(message);
    this.name = 'RaceError';
  }
}

/** How long a settled race waits for its stopped calls to report their usage. */
const STOP_WAIT_MS = 1000;

interface Entry {
  candidate: RaceCandidate;
  ac: AbortController;
  call: RaceCall;
  /** Set once the race decided this call's fate (lost, stalled, timeout): its later error is expected. */
  decided?: ModelCallOutcome;
  continuation: boolean;
  text: string;
  started: number;
  failed?: ProviderError | Error;
}

/** Runs the race; resolves with the answer, or rejects with a `RaceError`. */
export function raceProviders(opts: RaceOptions): Promise<RaceResult> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  const maxFailovers = opts.maxFailovers ?? 2;
  const entries: Entry[] = [];
  let next = 0;
  let current: Entry | null = null; // the call whose tokens reach the user
  let winner: Entry | null = null;
  let text = opts.continueFrom ?? '';
  let failovers = 0;
  let settled = false;
  let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  return new Promise<RaceResult>((resolve, reject) => {
    const clearTimers = () => {
      clearTimeout(hedgeTimer);
      clearTimeout(stallTimer);
      clearTimeout(deadlineTimer);
      opts.signal.removeEventListener('abort', onCancel);
    };
    /** Settles the race once: stops what still runs, then hands every call (with its usage) to `settle`. */
    const finish = (settle: (calls: RaceCall[]) => void) => {
      if (settled) return;
      settled = true;
      clearTimers();
      // Every call still running is stopped; the promise settles once their usage is known.
      for (const e of entries) if (!e.call.outcome) stop(e, 'lost');
      // Aborted SDK streams reject within milliseconds; the bound only guards against one that ignores its signal.
      const stopped = Promise.allSettled(pending);
      void Promise.race([stopped, new Promise((r) => setTimeout(r, STOP_WAIT_MS))]).then(() => settle(entries.map((e) => e.call)));
    };
    const fail = (reason: RaceError['reason'], message: string) => {
      const failed = entries.filter((e) => e.call.outcome === 'failed');
      const retryable = reason !== 'failed' || failed.length === 0 || failed.some((e) => !(e.failed instanceof ProviderError) || e.failed.retryable);
      const afters = failed.map((e) => e.call.retryAfterMs);
      const retryAfterMs = afters.length > 0 && afters.every((a) => a !== undefined) ? Math.min(...(afters as number[])) : undefined;
      finish((calls) => reject(new RaceError(message, calls, reason, retryable, retryAfterMs, text)));
    };
    const pending: Promise<unknown>[] = [];

    /** Marks a running call's fate and aborts it, saying why (its trace span records it); its partial usage is recorded when its stream rejects. */
    function stop(e: Entry, outcome: StopOutcome) {
      if (e.call.outcome) return;
      e.decided = outcome;
      e.call.outcome = outcome;
      e.call.ms = now() - e.started;
      e.ac.abort(stoppedAs(outcome));
    }

    function start(candidate: RaceCandidate, continueFrom?: string): Entry {
      const started = now();
      const ac = new AbortController();
      const e: Entry = {
        candidate,
        ac,
        continuation: continueFrom !== undefined,
        text: '',
        started,
        call: { provider: candidate.name, model: candidate.model, outcome: undefined as unknown as ModelCallOutcome, startMs: started - t0, ttftMs: null, ms: 0, usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 } },
      };
      entries.push(e);
      const run = candidate.provider
        .stream({ ...opts.request, model: candidate.model, signal: ac.signal, ...(continueFrom !== undefined ? { continueFrom } : {}), onToken: (t) => onToken(e, t) })
        .then(
          (r) => onDone(e, r),
          (err: unknown) => onError(e, err as Error),
        );
      pending.push(run);
      return e;
    }

    function startNext(): boolean {
      const candidate = opts.candidates[next];
      if (!candidate || settled || winner) return false;
      next++;
      start(candidate, opts.continueFrom || undefined);
      scheduleHedge();
      return true;
    }

    function scheduleHedge() {
      clearTimeout(hedgeTimer);
      if (opts.hedgeDelayMs === null || next >= opts.candidates.length) return;
      hedgeTimer = setTimeout(startNext, opts.hedgeDelayMs);
    }

    function armStall(e: Entry) {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        if (settled || current !== e) return;
        stop(e, 'stalled');
        failover(e, `${e.candidate.name} sent no token for ${opts.stallTimeoutMs} ms`);
      }, opts.stallTimeoutMs);
    }

    function onToken(e: Entry, t: string) {
      if (settled || e.call.outcome || !t) return;
      if (e.call.ttftMs === null) e.call.ttftMs = now() - e.started;
      e.text += t;
      if (!winner) {
        // The first content token wins; the others are stopped at once.
        winner = e;
        current = e;
        clearTimeout(hedgeTimer);
        clearTimeout(deadlineTimer);
        for (const other of entries) if (other !== e) stop(other, 'lost');
      }
      if (e !== current) return;
      // A continuation of a prefill that lost its trailing whitespace must not double it.
      if (e.continuation && e.text === t && /\s$/.test(text)) t = t.replace(/^\s+/, '');
      text += t;
      if (t) opts.onToken(t);
      armStall(e);
    }

    function onDone(e: Entry, r: StreamResult) {
      e.call.usage = r.usage;
      e.call.reportedModel = r.model;
      if (e.call.outcome) return; // stopped by the race meanwhile: lost or stalled
      e.call.ms = now() - e.started;
      if (!winner) {
        // Finished without a single token (an empty answer): it still answered first.
        winner = e;
        current = e;
      }
      if (e !== current) {
        e.call.outcome = 'lost';
        return;
      }
      e.call.outcome = e.continuation ? 'continuation' : 'won';
      const w = winner;
      finish((calls) => resolve({ text, winner: w.candidate.name, model: w.call.reportedModel ?? w.candidate.model, calls, failovers, ttftMs: w.started - t0 + (w.call.ttftMs ?? 0), stopReason: r.stopReason }));
    }

    function onError(e: Entry, err: Error) {
      const partial = err instanceof ProviderError ? err.partial : undefined;
      if (partial) e.call.usage = partial.usage;
      if (e.decided) return; // we stopped it: lost, stalled or timed out, as recorded
      e.failed = err;
      e.call.outcome = 'failed';
      e.call.ms = now() - e.started;
      if (err instanceof ProviderError) {
        if (err.status !== null) e.call.status = err.status;
        if (err.retryAfterMs !== undefined) e.call.retryAfterMs = err.retryAfterMs;
      }
      if (settled) return;
      if (e === current) {
        failover(e, `${e.candidate.name} failed mid-answer: ${err.message}`);
        return;
      }
      if (winner) return;
      // Failed before any token: start the next provider now instead of waiting for the hedge.
      if (startNext()) return;
      if (entries.some((x) => !x.call.outcome)) return; // others still running
      fail('failed', `every provider failed: ${entries.map((x) => `${x.candidate.name}: ${x.failed?.message ?? x.call.outcome}`).join('; ')}`);
    }

    /**
     * Continues the answer on another provider: one not used yet, else one that lost, else one that failed
     * before its first token, else the one that just went quiet (a new connection often works).
     */
    function failover(from: Entry, reason: string) {
      clearTimeout(stallTimer);
      const rank = (c: RaceCandidate) => {
        const mine = entries.filter((x) => x.candidate.name === c.name);
        if (!mine.length) return 0;
        if (mine.every((x) => x.call.outcome === 'lost')) return 1;
        return mine.includes(from) ? 3 : 2;
      };
      const to = [...opts.candidates].sort((a, b) => rank(a) - rank(b))[0];
      if (!to || failovers >= maxFailovers) {
        fail('failed', `${reason}; no failover left to continue the answer`);
        return;
      }
      failovers++;
      opts.onFailover?.(from.candidate.name, to.name, reason);
      const e = start(to, text);
      current = e;
      armStall(e);
    }

    function onCancel() {
      for (const e of entries) stop(e, 'cancelled');
      fail('cancelled', 'the answer was cancelled');
    }

    if (opts.signal.aborted) {
      fail('cancelled', 'the answer was cancelled');
      return;
    }
    opts.signal.addEventListener('abort', onCancel, { once: true });
    if (opts.firstTokenDeadline !== undefined) {
      deadlineTimer = setTimeout(() => {
        if (winner || settled) return;
        for (const e of entries) stop(e, 'timeout');
        fail('deadline', 'no provider produced a first token before the turn deadline');
      }, Math.max(0, opts.firstTokenDeadline - now()));
    }
    if (!startNext()) fail('failed', 'no provider is configured for the answer');
  });
}

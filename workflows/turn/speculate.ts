// Speculate, then confirm. While the model reads the question (capture and detect, a few hundred ms), the
// turn starts what the rules' reading calls for: the data (compiled SQL, usually) and the documents (both
// started in understand.ts), and the answer itself, whose tokens the answer activity holds back. When the model's reading has the same route
// (intent and slot signature), the workflow releases them at once: the first token costs
// max(understanding, answer) instead of their sum. When it differs, the held answer is discarded (its
// calls are counted, outcome `speculative-discarded`) and the turn answers on the model's reading.
import type { GatheredContext } from '../../activities/gather/activities.ts';
import type { RetrievedChunk } from '../../activities/knowledge/store.ts';
import type { SqlAgentOutput } from '../../activities/sql/activities.ts';
import { turnGateKey, type GateVerdict } from '../shared/contract.ts';
import { DEFAULT_TENANT_SETTINGS } from '../shared/tenant-settings.ts';
import type { Turn } from './context.ts';
import { answerRequest, callAnswer, raceOf, type Attempted } from './generate.ts';
import { llm, turnIo } from './proxies.ts';
import type { Route } from './route.ts';

/** How long a held answer waits for the verdict before it discards itself (the workflow worker may be gone). */
export const HOLD_MAX_WAIT_MS = 15_000;

/** Work started on the rules' route. */
export interface Speculation {
  route: Route;
  /** The model agreed: release the held answer. Null when none was held (the turn answers the usual way). */
  release(): Promise<Attempted | null>;
  /** The model disagreed (or the cache answered): drop the held answer; its calls join the turn's. */
  discard(): Promise<void>;
}

/** Starts the rules' route: data and documents now, the held answer once they are in. */
export function speculate(
  turn: Turn,
  route: Route,
  parts: {
    context: Promise<GatheredContext>;
    /** The SQL agent and retrieval, already started on the rules' route (understand.ts). */
    data: Promise<SqlAgentOutput | null> | null;
    docs: Promise<{ chunks: RetrievedChunk[] } | null> | null;
    deadlines: { turn: number; data: number };
  },
): Speculation {
  const settings = { ...DEFAULT_TENANT_SETTINGS, ...turn.opened!.tenant.settings };
  const data = parts.data ?? Promise.resolve(null);
  const docs = parts.docs ?? Promise.resolve(null);
  const gate = turnGateKey(turn.workflowId);
  let decided: 'released' | 'discarded' | null = null;

  const held: Promise<Attempted | null> = (async () => {
    const [context, dataOut, docsOut] = await Promise.all([parts.context, data, docs]);
    // Without the data it needs, or once decided against, there is nothing worth holding.
    if ((route.wantsData && !dataOut) || decided === 'discarded') return null;
    const { tier, ...race } = raceOf(settings, route.effort.tier);
    const request = answerRequest(turn, context, route, dataOut, docsOut);
    // The answer's own retry policy: a retry (another worker, after a crash) reads the same verdict.
    return callAnswer(
      turn,
      llm,
      { ...request, ...race, tier, firstTokenDeadline: parts.deadlines.turn, hold: { gate, maxWaitMs: HOLD_MAX_WAIT_MS } },
      dataOut ? { resultRef: dataOut.resultRef, slots: route.slots } : undefined,
    );
  })();

  const verdict = (v: GateVerdict) => turn.orFallback('decideSpeculation', () => turnIo.decideSpeculation({ gate, verdict: v }), undefined);

  return {
    route,
    async release() {
      decided = 'released';
      // The draft is taken once the data and documents are in, so `done` counts their calls and steps.
      await Promise.all([data, docs]);
      await verdict({ release: true, draft: turn.draft(), progress: turn.takeProgress() });
      return held;
    },
    async discard() {
      decided = 'discarded';
      await verdict({ release: false });
      await Promise.all([held, data, docs]);
    },
  };
}

// A speculative answer's wait for the workflow's verdict: the first gate event on the turn's gate stream
// (read from its start, so a verdict published before the answer started counts). No verdict within the
// bound, or the activity cancelled: discard, the safe reading (nothing held reaches the user).
import type { GateVerdict } from '../../workflows/shared/contract.ts';
import type { TurnEventBus } from '../turn-events/bus.ts';

/** Resolves with the verdict on `gate`; a discard when none comes within `maxWaitMs` or `signal` aborts. */
export function awaitVerdict(events: Pick<TurnEventBus, 'subscribe'>, gate: string, maxWaitMs: number, signal: AbortSignal): Promise<GateVerdict> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), maxWaitMs);
  const reading = AbortSignal.any([stop.signal, signal]);
  return (async () => {
    try {
      for await (const item of events.subscribe(gate, '0', { signal: reading, idleMs: Math.min(maxWaitMs, 5000) })) {
        const event = item as { type: string; data?: unknown };
        if (event.type === 'gate') return event.data as GateVerdict;
        if (reading.aborted) break;
      }
    } catch {
      // An unreachable bus is no verdict.
    } finally {
      clearTimeout(timer);
      stop.abort();
    }
    return { release: false };
  })();
}

import type { Request, Response } from 'express';
import type { BusItem, TurnEventBus } from '../activities/turn-events/bus.ts';
import { isTerminal, type StoredTurnEvent, type TurnEvent } from '../workflows/shared/contract.ts';

/**
 * Sends an event stream's status and headers, made to survive proxies (no buffering, no transform); the
 * product's SSE and the OpenAI-compatible stream both open with it.
 */
export function openEventStream(res: Response): void {
  res.status(200).set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
}

/** Opens the product's SSE response: the event stream, and the reconnect delay its clients use. */
export function openSse(res: Response): void {
  openEventStream(res);
  // Clients reconnect after 2 s and send Last-Event-ID; the stream resumes where it was.
  res.write('retry: 2000\n\n');
}

/**
 * Writes one event frame. Frames written in the same tick (a burst of tokens, a cached answer's whole
 * stream) leave in one socket write: the response is corked until the tick's queued work is done.
 */
export function writeEvent(res: Response, event: TurnEvent & { id?: string }): void {
  const id = event.id ? `id: ${event.id}\n` : '';
  writeFrame(res, `${id}event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
}

/** Writes one whole SSE frame, corked until the end of the tick with the frames written beside it. */
export function writeFrame(res: Response, frame: string): void {
  if (!res.writableCorked) {
    res.cork();
    process.nextTick(() => res.uncork());
  }
  res.write(frame);
}

export interface RelayOptions {
  events: TurnEventBus;
  stream: string;
  afterId: string;
  idleMs?: number;
  /**
   * Called on idle periods (also while the event bus is unreachable): returns a terminal event when the turn
   * ended without one reaching the stream (terminated by an operator; finished while Redis was down).
   */
  onIdle?: () => Promise<TurnEvent | null>;
  /** Runs once the terminal event is written (and the client has it); the response ends when it settles. */
  afterTerminal?: () => Promise<unknown>;
}

/** What `readTurn` yields: the turn's events, and `idle` after each quiet period (the relay sends a heartbeat). */
export type TurnStreamItem = TurnEvent | StoredTurnEvent | { type: 'idle' };

/**
 * A turn's stream as a client should get it, whatever the client speaks (SSE here, chat completion chunks in
 * api/chat-completions.ts): each token once, and one terminal event, after which it ends. On idle periods
 * `onIdle` may end a turn that closed without a terminal event. Ends when `signal` aborts; throws when the
 * event bus does.
 */
export async function* readTurn(opts: Pick<RelayOptions, 'events' | 'stream' | 'afterId' | 'idleMs' | 'onIdle'>, signal: AbortSignal): AsyncGenerator<TurnStreamItem> {
  const sentTokens = new Set<string>();
  const items: AsyncIterable<BusItem> = opts.events.subscribe(opts.stream, opts.afterId, { signal, idleMs: opts.idleMs });
  for await (const item of items) {
    if (signal.aborted) return;
    if (item.type === 'idle') {
      yield item;
      const ended = await opts.onIdle?.();
      if (ended) {
        // Written to the stream, so every reader ends alike; with the stream unreachable (Redis down), handed
        // straight to this reader from the stored turn.
        const written = await opts.events.publishTerminal(opts.stream, ended).then(
          () => true,
          () => false,
        );
        if (!written) {
          yield ended;
          return;
        }
      }
      continue;
    }
    // A write the event bus sent again after Redis came back (its reply was lost with the connection) can
    // reach the stream twice: a token this reader already has (same attempt, same place) is not yielded again.
    if (item.type === 'token') {
      const t = item.data as { attempt?: number; at?: number };
      if (t.at !== undefined) {
        const key = `${t.attempt ?? 0}:${t.at}`;
        if (sentTokens.has(key)) continue;
        sentTokens.add(key);
      }
    }
    yield item;
    if (isTerminal(item)) return;
  }
}

/** Relays a turn's stream to the client until `done`/`error` or disconnect; heartbeats while idle. */
export async function relay(req: Request, res: Response, opts: RelayOptions): Promise<void> {
  const ac = new AbortController();
  const onClose = () => ac.abort();
  res.on('close', onClose);
  try {
    for await (const item of readTurn(opts, ac.signal)) {
      if (item.type === 'idle') {
        res.write(': keep-alive\n\n');
        continue;
      }
      writeEvent(res, item);
      if (isTerminal(item)) {
        await opts.afterTerminal?.().catch(() => {});
        break;
      }
    }
  } catch (err) {
    if (!ac.signal.aborted && !res.writableEnded) {
      writeEvent(res, { type: 'error', data: { code: 'stream_unavailable', message: 'The event stream was interrupted; reconnect with Last-Event-ID' } });
    }
    req.log?.warn({ err }, 'relay ended with an error');
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
    ac.abort();
  }
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Child logger with the request id, set by the app. */
    log?: import('../infra/logger.ts').Logger;
  }
}

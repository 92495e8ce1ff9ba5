import type { Redis } from 'ioredis';
import type { GateEvent, StoredTurnEvent, TurnEvent } from '../../workflows/shared/contract.ts';

/** What a subscription yields: events, or `idle` after a quiet period (the API sends a heartbeat). */
export type BusItem = StoredTurnEvent | { type: 'idle' };

/** A turn's event stream: activities append, the API relays. Ids are `<ms>-<seq>` stream positions. */
export interface TurnEventBus {
  /** Appends an event and returns its id (a gate event only to a turn's gate stream). */
  publish(stream: string, event: TurnEvent | GateEvent): Promise<string>;
  /** Appends a `done`/`error` unless the stream already has one (a retried activity must not add a second). */
  publishTerminal(stream: string, event: TurnEvent): Promise<string | null>;
  /** Whether the stream exists (has not expired). */
  exists(stream: string): Promise<boolean>;
  /** Events after `afterId` (`0` = from the start), then new ones as they come, until `signal` aborts. */
  subscribe(stream: string, afterId: string, opts: { signal: AbortSignal; idleMs?: number }): AsyncIterable<BusItem>;
  close(): Promise<void>;
}

/** A valid stream position (SSE `Last-Event-ID`). */
export const EVENT_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

const MAX_EVENTS_PER_STREAM = 5000;

function terminalKey(stream: string): string {
  return stream.replace(/:events$/, ':terminal');
}

// Atomic "first terminal event wins": SET NX a marker, then XADD, in one script.
const PUBLISH_TERMINAL_LUA = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'type', ARGV[3], 'data', ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return id
end
return false`;

function parseEntries(entries: [string, string[]][]): StoredTurnEvent[] {
  return entries.map(([id, fields]) => {
    let type = '';
    let data = '';
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === 'type') type = fields[i + 1] ?? '';
      else if (fields[i] === 'data') data = fields[i + 1] ?? '';
    }
    return { id, type, data: JSON.parse(data) } as StoredTurnEvent;
  });
}

/** Redis Streams: XADD (capped, expiring) by activities, XREAD BLOCK on a dedicated connection per reader. */
export function createRedisTurnEventBus(redis: Redis, ttlSeconds: number): TurnEventBus {
  return {
    async publish(stream, event) {
      const res = await redis
        .multi()
        .xadd(stream, 'MAXLEN', '~', MAX_EVENTS_PER_STREAM, '*', 'type', event.type, 'data', JSON.stringify(event.data))
        .expire(stream, ttlSeconds)
        .exec();
      const [err, id] = res?.[0] ?? [new Error('XADD returned nothing'), null];
      if (err) throw err;
      return id as string;
    },
    async publishTerminal(stream, event) {
      const id = await redis.eval(
        PUBLISH_TERMINAL_LUA,
        2,
        stream,
        terminalKey(stream),
        ttlSeconds,
        MAX_EVENTS_PER_STREAM,
        event.type,
        JSON.stringify(event.data),
      );
      return (id as string | null) ?? null;
    },
    async exists(stream) {
      return (await redis.exists(stream)) === 1;
    },
    async *subscribe(stream, afterId, { signal, idleMs = 15_000 }) {
      // XREAD BLOCK holds its connection: each reader gets its own, closed when the reader ends.
      const reader = redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 1 });
      const onAbort = () => reader.disconnect();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await reader.connect();
        let last = afterId;
        while (!signal.aborted) {
          let res: [string, [string, string[]][]][] | null;
          try {
            res = (await reader.xread('COUNT', 500, 'BLOCK', idleMs, 'STREAMS', stream, last)) as typeof res;
          } catch (err) {
            if (signal.aborted) return;
            throw err;
          }
          const entries = res?.[0]?.[1] ?? [];
          if (entries.length === 0) {
            yield { type: 'idle' };
            continue;
          }
          for (const ev of parseEntries(entries)) {
            last = ev.id;
            yield ev;
          }
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        reader.disconnect();
      }
    },
    async close() {},
  };
}

interface MemoryStream {
  events: StoredTurnEvent[];
  seq: number;
  terminal: boolean;
  waiters: Set<() => void>;
  touchedAt: number;
}

/** In-process bus for the single-process embedded default; same semantics as the Redis one. */
export function createMemoryTurnEventBus(ttlSeconds: number, now: () => number = Date.now): TurnEventBus {
  const streams = new Map<string, MemoryStream>();
  const sweep = setInterval(() => {
    const cutoff = now() - ttlSeconds * 1000;
    for (const [key, s] of streams) if (s.touchedAt < cutoff && s.waiters.size === 0) streams.delete(key);
  }, 60_000);
  sweep.unref();

  const get = (stream: string): MemoryStream => {
    let s = streams.get(stream);
    if (!s) {
      s = { events: [], seq: 0, terminal: false, waiters: new Set(), touchedAt: now() };
      streams.set(stream, s);
    }
    return s;
  };
  const append = (stream: string, event: TurnEvent): string => {
    const s = get(stream);
    s.seq += 1;
    const id = `0-${s.seq}`;
    s.events.push({ ...event, id } as StoredTurnEvent);
    if (s.events.length > MAX_EVENTS_PER_STREAM) s.events.shift();
    s.touchedAt = now();
    for (const wake of s.waiters) wake();
    return id;
  };
  const seqOf = (id: string) => Number(id.split('-')[1] ?? 0);

  return {
    async publish(stream, event) {
      // A gate event is stored like any other; only speculative answers read gate streams.
      return append(stream, event as TurnEvent);
    },
    async publishTerminal(stream, event) {
      const s = get(stream);
      if (s.terminal) return null;
      s.terminal = true;
      return append(stream, event);
    },
    async exists(stream) {
      return streams.has(stream);
    },
    async *subscribe(stream, afterId, { signal, idleMs = 15_000 }) {
      let last = afterId === '0' ? 0 : seqOf(afterId);
      while (!signal.aborted) {
        const s = get(stream);
        const fresh = s.events.filter((e) => seqOf(e.id) > last);
        if (fresh.length) {
          for (const e of fresh) {
            last = seqOf(e.id);
            yield e;
          }
          continue;
        }
        const woke = await new Promise<boolean>((resolve) => {
          const done = (v: boolean) => {
            clearTimeout(timer);
            s.waiters.delete(wake);
            signal.removeEventListener('abort', onAbort);
            resolve(v);
          };
          const wake = () => done(true);
          const onAbort = () => done(false);
          const timer = setTimeout(() => done(false), idleMs);
          s.waiters.add(wake);
          signal.addEventListener('abort', onAbort, { once: true });
        });
        if (!woke && !signal.aborted) yield { type: 'idle' };
      }
    },
    async close() {
      clearInterval(sweep);
    },
  };
}

/** Redis Streams when a connection is given, the in-process bus otherwise. */
export function createTurnEventBus(redis: Redis | undefined, ttlSeconds: number): TurnEventBus {
  return redis ? createRedisTurnEventBus(redis, ttlSeconds) : createMemoryTurnEventBus(ttlSeconds);
}

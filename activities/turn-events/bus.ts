import type { Redis } from 'ioredis';
import type { GateEvent, StoredTurnEvent, TurnEvent } from '../../workflows/shared/contract.ts';

/** What a subscription yields: events, or `idle` after a quiet period (the API sends a heartbeat). */
export type BusItem = StoredTurnEvent | { type: 'idle' };

/**
 * Who writes a turn's answer: `<activity id>:<attempt>`. The answer activity claims the stream before it
 * writes; from then on the writes of any other writer (a zombie attempt a lost heartbeat replaced, a
 * dead worker's call that still streams) are refused, so the text the user has comes from one writer at a
 * time and the new one continues it. A writer of the same activity with a lower attempt cannot claim.
 */
export type StreamWriter = string;

/** Another writer claimed the stream: this one's writes are refused (`publish`/`publishTerminal` with a writer). */
export class StreamTakenOver extends Error {
  constructor(stream: string, writer: string) {
    super(`the turn's stream ${stream} was taken over by a later writer than ${writer}`);
    this.name = 'StreamTakenOver';
  }
}

/** A turn's event stream: activities append, the API relays. Ids are `<ms>-<seq>` stream positions. */
export interface TurnEventBus {
  /** Appends an event and returns its id (a gate event only to a turn's gate stream); with `writer`, only while it holds the stream. */
  publish(stream: string, event: TurnEvent | GateEvent, writer?: StreamWriter): Promise<string>;
  /** Appends a `done`/`error` unless the stream already has one (a retried activity must not add a second); with `writer`, only while it holds the stream. */
  publishTerminal(stream: string, event: TurnEvent, writer?: StreamWriter): Promise<string | null>;
  /** Makes `writer` the stream's writer (StreamTakenOver when a later attempt of its activity holds it) and returns the events so far. */
  claim(stream: string, writer: StreamWriter): Promise<StoredTurnEvent[]>;
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

function writerKey(stream: string): string {
  return stream.replace(/:events$/, ':writer');
}

/** Whether `claimant` may take the stream from `holder`: not a lower attempt of the holder's own activity. */
export function mayClaim(holder: string | undefined, claimant: string): boolean {
  if (!holder) return true;
  const a = /^(.*):(\d+)$/.exec(holder);
  const b = /^(.*):(\d+)$/.exec(claimant);
  return !(a && b && a[1] === b[1] && Number(a[2]) > Number(b[2]));
}

// The writer fence: ARGV[1] is the writer ('' = none); refused when another writer holds the stream.
const FENCE_LUA = `
if ARGV[1] ~= '' then
  local holder = redis.call('GET', KEYS[3])
  if holder and holder ~= ARGV[1] then return redis.error_reply('TAKENOVER') end
end`;

const PUBLISH_LUA = `${FENCE_LUA}
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'type', ARGV[4], 'data', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return id`;

// Atomic "first terminal event wins": SET NX a marker, then XADD, in one script.
const PUBLISH_TERMINAL_LUA = `${FENCE_LUA}
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'type', ARGV[4], 'data', ARGV[5])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return id
end
return false`;

// Takes the stream unless a later attempt of the claimant's activity holds it; returns the events so far.
const CLAIM_LUA = `
local holder = redis.call('GET', KEYS[2])
if holder then
  local a, n = string.match(holder, '^(.*):(%d+)$')
  local b, m = string.match(ARGV[1], '^(.*):(%d+)$')
  if a and b and a == b and tonumber(n) > tonumber(m) then return redis.error_reply('TAKENOVER') end
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return redis.call('XRANGE', KEYS[1], '-', '+')`;

const isTakenOver = (err: unknown) => err instanceof Error && err.message.includes('TAKENOVER');

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

type XReadReply = [string, [string, string[]][]][] | null;

/** How long `exists` waits for Redis before saying it cannot tell (the API then relays and heartbeats). */
const EXISTS_TIMEOUT_MS = 1000;

/**
 * Redis Streams: XADD (capped, expiring) by activities, XREAD BLOCK on a dedicated connection per reader.
 * Give it a connection that queues commands while Redis is away (`connectRedis(..., { queueWhileDown })`):
 * an outage is then a pause, the writes made during it go out in order when Redis is back, and a reader
 * keeps yielding `idle` (the API's heartbeats) until its read returns.
 */
export function createRedisTurnEventBus(redis: Redis, ttlSeconds: number): TurnEventBus {
  // Loaded once, run by their SHA (a token's write is one short EVALSHA).
  redis.defineCommand('turnflowPublish', { numberOfKeys: 3, lua: PUBLISH_LUA });
  redis.defineCommand('turnflowPublishTerminal', { numberOfKeys: 3, lua: PUBLISH_TERMINAL_LUA });
  redis.defineCommand('turnflowClaim', { numberOfKeys: 2, lua: CLAIM_LUA });
  const r = redis as Redis & {
    turnflowPublish(...args: (string | number)[]): Promise<string>;
    turnflowPublishTerminal(...args: (string | number)[]): Promise<string | null>;
    turnflowClaim(...args: (string | number)[]): Promise<[string, string[]][]>;
  };
  const keys = (stream: string) => [stream, terminalKey(stream), writerKey(stream)];
  const fenced = async <T>(stream: string, writer: string | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (writer && isTakenOver(err)) throw new StreamTakenOver(stream, writer);
      throw err;
    }
  };
  return {
    publish(stream, event, writer) {
      const data = JSON.stringify(event.data);
      return fenced(stream, writer, () => r.turnflowPublish(...keys(stream), writer ?? '', ttlSeconds, MAX_EVENTS_PER_STREAM, event.type, data));
    },
    publishTerminal(stream, event, writer) {
      const data = JSON.stringify(event.data);
      return fenced(stream, writer, async () => (await r.turnflowPublishTerminal(...keys(stream), writer ?? '', ttlSeconds, MAX_EVENTS_PER_STREAM, event.type, data)) ?? null);
    },
    claim(stream, writer) {
      return fenced(stream, writer, async () => parseEntries(await r.turnflowClaim(stream, writerKey(stream), writer, ttlSeconds)));
    },
    async exists(stream) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const unreachable = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${EXISTS_TIMEOUT_MS} ms`)), EXISTS_TIMEOUT_MS);
      });
      try {
        return (await Promise.race([redis.exists(stream), unreachable])) === 1;
      } finally {
        clearTimeout(timer);
      }
    },
    async *subscribe(stream, afterId, { signal, idleMs = 15_000 }) {
      // XREAD BLOCK holds its connection: each reader gets its own, closed when the reader ends. Its reads wait
      // through a Redis outage (queued, resent on reconnect); meanwhile the reader yields `idle` on a timer.
      const reader = redis.duplicate({ maxRetriesPerRequest: null });
      reader.on('error', () => {}); // reconnecting is ioredis's job; the reader only waits
      const onAbort = () => reader.disconnect();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        let last = afterId;
        let read: Promise<{ res: XReadReply } | { err: unknown }> | null = null;
        while (!signal.aborted) {
          read ??= (reader.xread('COUNT', 500, 'BLOCK', idleMs, 'STREAMS', stream, last) as Promise<XReadReply>).then(
            (res) => ({ res }),
            (err: unknown) => ({ err }),
          );
          let timer: ReturnType<typeof setTimeout> | undefined;
          const quiet = new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), idleMs + 1000);
          });
          const out = await Promise.race([read, quiet]);
          clearTimeout(timer);
          if (signal.aborted) return;
          if (out === null) {
            // Redis is not answering (an outage): the read stays queued; the client gets a heartbeat.
            yield { type: 'idle' };
            continue;
          }
          read = null;
          if ('err' in out) {
            // A read that failed (a reconnect gave up on it): wait a moment and read again from the same place.
            yield { type: 'idle' };
            await new Promise((r) => setTimeout(r, 250));
            continue;
          }
          const entries = out.res?.[0]?.[1] ?? [];
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
  writer?: string;
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
  const fence = (stream: string, writer: string | undefined) => {
    const holder = streams.get(stream)?.writer;
    if (writer && holder && holder !== writer) throw new StreamTakenOver(stream, writer);
  };

  return {
    async publish(stream, event, writer) {
      fence(stream, writer);
      // A gate event is stored like any other; only speculative answers read gate streams.
      return append(stream, event as TurnEvent);
    },
    async publishTerminal(stream, event, writer) {
      fence(stream, writer);
      const s = get(stream);
      if (s.terminal) return null;
      s.terminal = true;
      return append(stream, event);
    },
    async claim(stream, writer) {
      const s = get(stream);
      if (!mayClaim(s.writer, writer)) throw new StreamTakenOver(stream, writer);
      s.writer = writer;
      s.touchedAt = now();
      return [...s.events];
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
